//! Rounds (评议轮次): one quarter each, with the lifecycle
//! `draft → open → closed → finalized → published`.

use crate::{RoundId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A quarter label such as `2020Q3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoundLabel {
    year: u16,
    quarter: u8,
}

/// Why a text is not a quarter label.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a quarter label like 2020Q3")]
pub struct RoundLabelError(pub String);

impl RoundLabel {
    /// A label for a year between 2000 and 2999 and a quarter 1–4.
    pub fn new(year: u16, quarter: u8) -> Result<Self, RoundLabelError> {
        if !(2000..=2999).contains(&year) || !(1..=4).contains(&quarter) {
            return Err(RoundLabelError(format!("{year}Q{quarter}")));
        }
        Ok(Self { year, quarter })
    }

    /// The quarter that contains a date.
    pub fn containing(date: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        Self {
            year: date.year() as u16,
            quarter: (date.month0() / 3 + 1) as u8,
        }
    }

    /// The calendar year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The quarter, 1 to 4.
    pub fn quarter(self) -> u8 {
        self.quarter
    }

    /// The first day of the quarter.
    pub fn first_day(self) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(i32::from(self.year), u32::from(self.quarter) * 3 - 2, 1)
            .expect("a quarter's first day exists")
    }

    /// The quarter after this one.
    pub fn next(self) -> Self {
        if self.quarter == 4 {
            Self {
                year: self.year + 1,
                quarter: 1,
            }
        } else {
            Self {
                year: self.year,
                quarter: self.quarter + 1,
            }
        }
    }

    /// How the label reads in Chinese, e.g. 2020年第3季度.
    pub fn display_zh(self) -> String {
        format!("{}年第{}季度", self.year, self.quarter)
    }
}

impl fmt::Display for RoundLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.quarter)
    }
}

impl FromStr for RoundLabel {
    type Err = RoundLabelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || RoundLabelError(s.to_string());
        let (y, q) = s.trim().split_once(['Q', 'q']).ok_or_else(bad)?;
        if y.len() != 4 || q.len() != 1 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let quarter = q.parse().map_err(|_| bad())?;
        Self::new(year, quarter).map_err(|_| bad())
    }
}

impl Serialize for RoundLabel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RoundLabel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Where a round is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoundState {
    /// Being prepared; invisible to ballots.
    Draft,
    /// Takes ballots.
    Open,
    /// No more ballots; the organizer can preview the ranking.
    Closed,
    /// The ranking is frozen with its method and parameters.
    Finalized,
    /// The results are public.
    Published,
}

impl RoundState {
    /// Every state, in lifecycle order.
    pub const ALL: [RoundState; 5] = [
        RoundState::Draft,
        RoundState::Open,
        RoundState::Closed,
        RoundState::Finalized,
        RoundState::Published,
    ];

    /// The state's code as stored and sent in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundState::Draft => "draft",
            RoundState::Open => "open",
            RoundState::Closed => "closed",
            RoundState::Finalized => "finalized",
            RoundState::Published => "published",
        }
    }

    /// The one state a round may move to next, if any. The lifecycle only moves forward:
    /// reopening a closed round would let ballots in after a preview was seen.
    pub fn next(self) -> Option<RoundState> {
        match self {
            RoundState::Draft => Some(RoundState::Open),
            RoundState::Open => Some(RoundState::Closed),
            RoundState::Closed => Some(RoundState::Finalized),
            RoundState::Finalized => Some(RoundState::Published),
            RoundState::Published => None,
        }
    }
}

impl fmt::Display for RoundState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoundState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoundState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown round state `{s}`"))
    }
}

/// A round as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Round {
    /// Its id.
    pub id: RoundId,
    /// The quarter it evaluates.
    pub label: RoundLabel,
    /// Where it is in its lifecycle.
    pub state: RoundState,
    /// The indicators, K, N and weights in force for this round (copied at creation).
    pub settings: crate::settings::RoundSettings,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// One recorded lifecycle step of a round: who moved it, from what, to what, when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// The state before.
    pub from: RoundState,
    /// The state after.
    pub to: RoundState,
    /// The user who did it, if a user (the demo seeding has none).
    pub user_id: Option<UserId>,
    /// The name shown for who did it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_and_print_as_year_q_quarter() {
        let l: RoundLabel = "2020Q3".parse().unwrap();
        assert_eq!((l.year(), l.quarter()), (2020, 3));
        assert_eq!(l.to_string(), "2020Q3");
        assert_eq!(l.display_zh(), "2020年第3季度");
        assert_eq!(
            "2020q4".parse::<RoundLabel>().unwrap().to_string(),
            "2020Q4"
        );
    }

    #[test]
    fn malformed_labels_are_refused() {
        for bad in [
            "2020Q5", "2020Q0", "20Q1", "2020-3", "", "2020Q", "1999Q1", "2020Q12",
        ] {
            assert!(bad.parse::<RoundLabel>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_quarter_after_q4_is_next_years_q1() {
        let l: RoundLabel = "2020Q4".parse().unwrap();
        assert_eq!(l.next().to_string(), "2021Q1");
        assert!(l < l.next());
    }

    #[test]
    fn the_lifecycle_only_moves_forward_one_step() {
        assert_eq!(RoundState::Draft.next(), Some(RoundState::Open));
        assert_eq!(RoundState::Finalized.next(), Some(RoundState::Published));
        assert_eq!(RoundState::Published.next(), None);
    }
}

//! Rounds (评议轮次): one period each (usually a quarter; see [`crate::Period`]), with the
//! lifecycle `draft → open → closed → finalized → published`.

use crate::{Period, RoundId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

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
    /// The period it evaluates, which is also its label (`2026Q4`).
    pub period: Period,
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
    fn the_lifecycle_only_moves_forward_one_step() {
        assert_eq!(RoundState::Draft.next(), Some(RoundState::Open));
        assert_eq!(RoundState::Finalized.next(), Some(RoundState::Published));
        assert_eq!(RoundState::Published.next(), None);
    }
}

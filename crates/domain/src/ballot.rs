//! Ballots (评议表): a respondent names up to K units as the hardest to deal with, ticks at
//! least one indicator for each, and may comment. Nothing on a ballot identifies the person.
//!
//! A [`BallotDraft`] is what arrives from a form or the API; [`BallotDraft::parse`] turns it
//! into a [`Ballot`] or says, field by field, what is wrong.

use crate::{IndicatorMask, UnitId, settings::RoundSettings};
use serde::{Deserialize, Serialize};
use std::{collections::HashSet, fmt, str::FromStr};

/// How a ballot reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// 定向: a drawn panel member, with a one-time code.
    Directed,
    /// 抽样: the form printed in the newspaper or on the website, open to anyone.
    Open,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 2] = [Channel::Directed, Channel::Open];

    /// The channel's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Directed => "directed",
            Channel::Open => "open",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

/// A ballot as submitted, before any check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotDraft {
    /// `open` or `directed`.
    pub channel: String,
    /// The one-time code of a directed ballot.
    #[serde(default)]
    pub code: Option<String>,
    /// The named units.
    #[serde(default)]
    pub nominations: Vec<NominationDraft>,
    /// Units the respondent dealt with this quarter (optional).
    #[serde(default)]
    pub exposure: Vec<i64>,
}

/// One named unit as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NominationDraft {
    /// The unit's id.
    pub unit_id: i64,
    /// Indicator codes, e.g. `["cold", "greedy"]`.
    #[serde(default)]
    pub indicators: Vec<String>,
    /// Optional comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A checked ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// How it reached us.
    pub channel: Channel,
    /// The one-time code, for a directed ballot; spent, never stored with the ballot.
    pub code: Option<String>,
    /// The named units, each once.
    pub nominations: Vec<Nomination>,
    /// Units dealt with this quarter, each once.
    pub exposure: Vec<UnitId>,
}

/// One named unit on a checked ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nomination {
    /// The unit.
    pub unit_id: UnitId,
    /// The ticked indicators (never empty).
    pub indicators: IndicatorMask,
    /// The comment, trimmed; `None` when blank.
    pub comment: Option<String>,
}

/// What is wrong with a ballot, precisely enough to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BallotError {
    #[error("unknown channel `{0}`")]
    UnknownChannel(String),
    #[error("a directed ballot needs its one-time code")]
    CodeRequired,
    #[error("name at least one unit")]
    NoNominations,
    #[error("at most {max} units may be named")]
    TooManyNominations { max: usize },
    #[error("unit {unit_id} is not evaluated in this round")]
    UnknownUnit { index: usize, unit_id: i64 },
    #[error("unit {unit_id} is named twice")]
    DuplicateUnit { index: usize, unit_id: i64 },
    #[error("tick at least one indicator for unit {unit_id}")]
    NoIndicator { index: usize, unit_id: i64 },
    #[error("unknown indicator `{code}`")]
    UnknownIndicator { index: usize, code: String },
    #[error("a comment may have at most {max} characters")]
    CommentTooLong { index: usize, max: usize },
    #[error("unit {unit_id} in the exposure list is not evaluated in this round")]
    UnknownExposureUnit { index: usize, unit_id: i64 },
}

impl BallotError {
    /// Stable machine code for the API's error JSON.
    pub fn code(&self) -> &'static str {
        match self {
            BallotError::UnknownChannel(_) => "unknown_channel",
            BallotError::CodeRequired => "code_required",
            BallotError::NoNominations => "no_nominations",
            BallotError::TooManyNominations { .. } => "too_many_nominations",
            BallotError::UnknownUnit { .. } | BallotError::UnknownExposureUnit { .. } => {
                "unknown_unit"
            }
            BallotError::DuplicateUnit { .. } => "duplicate_unit",
            BallotError::NoIndicator { .. } => "no_indicator",
            BallotError::UnknownIndicator { .. } => "unknown_indicator",
            BallotError::CommentTooLong { .. } => "comment_too_long",
        }
    }

    /// The field the error belongs to, in the API's JSON path notation.
    pub fn field(&self) -> String {
        match self {
            BallotError::UnknownChannel(_) => "channel".into(),
            BallotError::CodeRequired => "code".into(),
            BallotError::NoNominations | BallotError::TooManyNominations { .. } => {
                "nominations".into()
            }
            BallotError::UnknownUnit { index, .. } | BallotError::DuplicateUnit { index, .. } => {
                format!("nominations[{index}].unit_id")
            }
            BallotError::NoIndicator { index, .. }
            | BallotError::UnknownIndicator { index, .. } => {
                format!("nominations[{index}].indicators")
            }
            BallotError::CommentTooLong { index, .. } => format!("nominations[{index}].comment"),
            BallotError::UnknownExposureUnit { index, .. } => format!("exposure[{index}]"),
        }
    }

    /// The unit the error is about, so a form can show it in place.
    pub fn unit_id(&self) -> Option<i64> {
        match self {
            BallotError::UnknownUnit { unit_id, .. }
            | BallotError::DuplicateUnit { unit_id, .. }
            | BallotError::NoIndicator { unit_id, .. }
            | BallotError::UnknownExposureUnit { unit_id, .. } => Some(*unit_id),
            _ => None,
        }
    }

    /// The position of the nomination the error is about, if it is about one.
    pub fn index(&self) -> Option<usize> {
        match self {
            BallotError::UnknownUnit { index, .. }
            | BallotError::DuplicateUnit { index, .. }
            | BallotError::NoIndicator { index, .. }
            | BallotError::UnknownIndicator { index, .. }
            | BallotError::CommentTooLong { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// The message in Simplified Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            BallotError::UnknownChannel(c) => format!("未知的评议渠道“{c}”"),
            BallotError::CodeRequired => "定向评议需填写评议码".into(),
            BallotError::NoNominations => "请至少选择一个科室".into(),
            BallotError::TooManyNominations { max } => format!("最多只能选择{max}个科室"),
            BallotError::UnknownUnit { unit_id, .. } => {
                format!("编号为{unit_id}的科室不在本轮评议范围内")
            }
            BallotError::DuplicateUnit { unit_id, .. } => {
                format!("编号为{unit_id}的科室重复选择")
            }
            BallotError::NoIndicator { .. } => "请至少勾选一项指标".into(),
            BallotError::UnknownIndicator { code, .. } => format!("未知的指标“{code}”"),
            BallotError::CommentTooLong { max, .. } => format!("意见最多{max}字"),
            BallotError::UnknownExposureUnit { unit_id, .. } => {
                format!("编号为{unit_id}的科室不在本轮评议范围内")
            }
        }
    }
}

impl BallotDraft {
    /// Checks the draft against the round's settings and the units it evaluates.
    /// The first problem found is returned; checks run in the order a person reads the form.
    pub fn parse(
        self,
        settings: &RoundSettings,
        is_evaluated: impl Fn(UnitId) -> bool,
    ) -> Result<Ballot, BallotError> {
        let channel: Channel = self
            .channel
            .parse()
            .map_err(|()| BallotError::UnknownChannel(self.channel.clone()))?;
        let code = self
            .code
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if channel == Channel::Directed && code.is_none() {
            return Err(BallotError::CodeRequired);
        }
        if self.nominations.is_empty() {
            return Err(BallotError::NoNominations);
        }
        if self.nominations.len() > settings.max_nominations {
            return Err(BallotError::TooManyNominations {
                max: settings.max_nominations,
            });
        }
        let mut seen = HashSet::new();
        let mut nominations = Vec::with_capacity(self.nominations.len());
        for (index, n) in self.nominations.into_iter().enumerate() {
            let unit_id = n.unit_id;
            if !is_evaluated(UnitId(unit_id)) {
                return Err(BallotError::UnknownUnit { index, unit_id });
            }
            if !seen.insert(unit_id) {
                return Err(BallotError::DuplicateUnit { index, unit_id });
            }
            let mut mask = IndicatorMask::default();
            for code in n.indicators {
                let pos = settings
                    .indicators
                    .position(&code)
                    .ok_or(BallotError::UnknownIndicator { index, code })?;
                mask = mask.with(pos);
            }
            if mask.is_empty() {
                return Err(BallotError::NoIndicator { index, unit_id });
            }
            let comment = n
                .comment
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty());
            if comment
                .as_ref()
                .is_some_and(|c| c.chars().count() > settings.comment_max_chars)
            {
                return Err(BallotError::CommentTooLong {
                    index,
                    max: settings.comment_max_chars,
                });
            }
            nominations.push(Nomination {
                unit_id: UnitId(unit_id),
                indicators: mask,
                comment,
            });
        }
        let mut exposure = Vec::with_capacity(self.exposure.len());
        let mut seen = HashSet::new();
        for (index, unit_id) in self.exposure.into_iter().enumerate() {
            if !is_evaluated(UnitId(unit_id)) {
                return Err(BallotError::UnknownExposureUnit { index, unit_id });
            }
            if seen.insert(unit_id) {
                exposure.push(UnitId(unit_id));
            }
        }
        Ok(Ballot {
            channel,
            code,
            nominations,
            exposure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(noms: Vec<(i64, Vec<&str>, Option<&str>)>) -> BallotDraft {
        BallotDraft {
            channel: "open".into(),
            nominations: noms
                .into_iter()
                .map(|(unit_id, inds, comment)| NominationDraft {
                    unit_id,
                    indicators: inds.into_iter().map(String::from).collect(),
                    comment: comment.map(String::from),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn parse(d: BallotDraft) -> Result<Ballot, BallotError> {
        d.parse(&RoundSettings::default(), |u| (1..=100).contains(&u.0))
    }

    #[test]
    fn a_good_ballot_keeps_its_units_indicators_and_trimmed_comments() {
        let b = parse(draft(vec![
            (3, vec!["cold", "greedy"], Some("  办事要跑三次 ")),
            (7, vec!["lazy"], Some("   ")),
        ]))
        .unwrap();
        assert_eq!(b.channel, Channel::Open);
        assert_eq!(b.nominations[0].unit_id, UnitId(3));
        assert_eq!(b.nominations[0].indicators.count(), 2);
        assert_eq!(b.nominations[0].comment.as_deref(), Some("办事要跑三次"));
        assert_eq!(b.nominations[1].comment, None);
    }

    #[test]
    fn each_bad_input_has_its_own_code_and_field() {
        let cases: Vec<(BallotDraft, &str, &str)> = vec![
            (draft(vec![]), "no_nominations", "nominations"),
            (
                draft(vec![(999, vec!["cold"], None)]),
                "unknown_unit",
                "nominations[0].unit_id",
            ),
            (
                draft(vec![(1, vec!["cold"], None), (1, vec!["lazy"], None)]),
                "duplicate_unit",
                "nominations[1].unit_id",
            ),
            (
                draft(vec![(1, vec![], None)]),
                "no_indicator",
                "nominations[0].indicators",
            ),
            (
                draft(vec![(1, vec!["rude"], None)]),
                "unknown_indicator",
                "nominations[0].indicators",
            ),
            (
                draft(vec![(1, vec!["cold"], Some(&"很".repeat(501)))]),
                "comment_too_long",
                "nominations[0].comment",
            ),
            (
                draft((1..=11).map(|u| (u, vec!["cold"], None)).collect()),
                "too_many_nominations",
                "nominations",
            ),
            (
                BallotDraft {
                    channel: "fax".into(),
                    ..draft(vec![(1, vec!["cold"], None)])
                },
                "unknown_channel",
                "channel",
            ),
            (
                BallotDraft {
                    channel: "directed".into(),
                    ..draft(vec![(1, vec!["cold"], None)])
                },
                "code_required",
                "code",
            ),
        ];
        for (d, code, field) in cases {
            let err = parse(d).unwrap_err();
            assert_eq!((err.code(), err.field().as_str()), (code, field), "{err}");
            assert!(!err.message_zh().is_empty());
        }
    }

    #[test]
    fn a_comment_of_exactly_the_limit_is_accepted() {
        let b = parse(draft(vec![(1, vec!["cold"], Some(&"很".repeat(500)))])).unwrap();
        assert_eq!(
            b.nominations[0].comment.as_ref().unwrap().chars().count(),
            500
        );
    }
}

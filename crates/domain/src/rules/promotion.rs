//! The promotion calendar: "may person P be promoted on date D?", answered from the
//! recorded sanctions with every reason.
//!
//! Only **confirmed** promotion freezes count: a proposed sanction is not yet a decision
//! and a rejected one never was. A freeze blocks from the publication date of its round
//! through its `until` date, inclusive; promotion is possible again the day after.
//! Removals (免职) add no freeze of their own: a removal always comes with a top-N
//! appearance of the same round, whose freeze already covers the person.

use crate::{
    Period, PersonId,
    rules::{ProposedSanction, SanctionKind},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a sanction is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionState {
    /// Proposed by the engine, not yet reviewed.
    Proposed,
    /// Confirmed by an authorized person.
    Confirmed,
    /// Rejected, with a reason.
    Rejected,
}

impl SanctionState {
    /// The state's code, as the API and the database write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SanctionState::Proposed => "proposed",
            SanctionState::Confirmed => "confirmed",
            SanctionState::Rejected => "rejected",
        }
    }
}

/// A sanction with its review state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedSanction {
    /// The sanction as proposed.
    pub sanction: ProposedSanction,
    /// Its state.
    pub state: SanctionState,
}

/// One reason a promotion is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The round whose results froze the person.
    pub round: Period,
    /// The rule, e.g. `top_n_promotion_freeze`.
    pub rule: String,
    /// The last day of the freeze.
    pub until: Option<NaiveDate>,
    /// The reason in Chinese.
    pub reason_zh: String,
}

/// The answer to "may P be promoted on D?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionAnswer {
    /// True when nothing stands in the way.
    pub eligible: bool,
    /// Every reason it is refused, latest freeze end first.
    pub reasons: Vec<Reason>,
}

/// Whether a person may be promoted on a date, given the recorded sanctions.
pub fn may_promote(
    person: PersonId,
    date: NaiveDate,
    sanctions: &[RecordedSanction],
) -> PromotionAnswer {
    let mut reasons: Vec<Reason> = sanctions
        .iter()
        .filter(|r| r.state == SanctionState::Confirmed)
        .map(|r| &r.sanction)
        .filter(|s| {
            s.person_id == person
                && s.kind == SanctionKind::PromotionFreeze
                && s.from <= date
                && s.until.is_some_and(|until| date <= until)
        })
        .map(|s| Reason {
            round: s
                .rounds
                .last()
                .copied()
                .unwrap_or_else(|| Period::containing(s.from)),
            rule: s.rule.clone(),
            until: s.until,
            reason_zh: s.reason_zh.clone(),
        })
        .collect();
    reasons.sort_by(|a, b| b.until.cmp(&a.until).then(a.round.cmp(&b.round)));
    PromotionAnswer {
        eligible: reasons.is_empty(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Post, PostRole, UnitId,
        rules::{EngineInput, RoundEntry, RoundToFinalize, Rules, propose},
    };
    use std::collections::BTreeMap;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The sanctions of a round published 2020-10-15 in which unit 7 (head: person 1) was 4th.
    fn sanctions(state: SanctionState) -> Vec<RecordedSanction> {
        let round = RoundToFinalize {
            period: "2020Q3".parse().unwrap(),
            published_on: day(2020, 10, 15),
            entries: vec![RoundEntry {
                unit_id: UnitId(7),
                rank: 4,
                score: 30.0,
                top_n: true,
            }],
            top_n: 10,
        };
        let posts = [Post {
            id: 1,
            person_id: PersonId(1),
            person: "张三".into(),
            unit_id: UnitId(7),
            role: PostRole::Head,
            start: day(2019, 1, 1),
            end: None,
        }];
        let input = EngineInput {
            round: &round,
            history: &[],
            posts: &posts,
            retired: &BTreeMap::new(),
        };
        propose(&Rules::default(), &input)
            .into_iter()
            .map(|sanction| RecordedSanction { sanction, state })
            .collect()
    }

    #[test]
    fn promotion_is_refused_during_a_freeze_with_the_reason_and_allowed_the_day_after_it_ends() {
        let s = sanctions(SanctionState::Confirmed);
        let during = may_promote(PersonId(1), day(2020, 12, 1), &s);
        assert!(!during.eligible);
        assert_eq!(
            during.reasons,
            [Reason {
                round: "2020Q3".parse().unwrap(),
                rule: "top_n_promotion_freeze".into(),
                until: Some(day(2021, 1, 14)),
                reason_zh: during.reasons[0].reason_zh.clone(),
            }]
        );
        assert!(!may_promote(PersonId(1), day(2020, 10, 15), &s).eligible);
        assert!(!may_promote(PersonId(1), day(2021, 1, 14), &s).eligible);
        let after = may_promote(PersonId(1), day(2021, 1, 15), &s);
        assert!(after.eligible && after.reasons.is_empty());
        assert!(may_promote(PersonId(1), day(2020, 10, 14), &s).eligible);
    }

    #[test]
    fn only_confirmed_freezes_stand_in_the_way() {
        for state in [SanctionState::Proposed, SanctionState::Rejected] {
            assert!(may_promote(PersonId(1), day(2020, 12, 1), &sanctions(state)).eligible);
        }
    }

    #[test]
    fn another_persons_freeze_does_not_count() {
        let s = sanctions(SanctionState::Confirmed);
        assert!(may_promote(PersonId(2), day(2020, 12, 1), &s).eligible);
    }
}

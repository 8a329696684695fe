//! The figures the evaluation is judged by — rounds held, reminder talks, interviews,
//! removals, deferred promotions, substantiated reports — counted from the records, per year
//! and in total.
//!
//! What is counted, and in which year:
//! - a **round** when it has been published, in the year of its quarter;
//! - a **sanction** only once confirmed (executed), in the year of the quarter whose results
//!   triggered it (the last round it names), so a round and what followed from it land in
//!   the same year; a removal counts the head's and the supervising leader's alike;
//! - a **deferred promotion** (暂缓提拔) when a person up for promotion was checked and the
//!   check was refused because of a promotion freeze, in the year of the first such check:
//!   the article's "拟提拔干部暂缓提拔" counts people actually up for promotion, not freezes
//!   imposed (those are counted apart, as promotion freezes). A person checked again during
//!   the same freeze is the same promotion deferred, counted once;
//! - a **substantiated report** in the year it was concluded.

use crate::{
    Period, PersonId,
    rules::{RecordedSanction, SanctionKind, SanctionState},
};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// One year's figures (or the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Published rounds.
    pub rounds: u32,
    /// Reminder talks with supervising leaders (谈话提醒).
    pub reminder_talks: u32,
    /// Interviews with unit heads (约谈).
    pub interviews: u32,
    /// Heads and supervising leaders removed (免职).
    pub removals: u32,
    /// Promotion checks of people up for promotion refused by a freeze (暂缓提拔).
    pub deferred_promotions: u32,
    /// Promotion freezes imposed on heads of listed units (3个月内不得提拔).
    pub promotion_freezes: u32,
    /// Assessment deductions (年度考核扣分).
    pub deductions: u32,
    /// Reports found true (查实举报).
    pub substantiated_reports: u32,
}

/// A promotion check a freeze refused: who, the round whose freeze refused it, and the day
/// of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deferral {
    /// The person up for promotion.
    pub person: PersonId,
    /// The round whose results froze them (the latest freeze, if several).
    pub freeze: Period,
    /// The day of the check.
    pub on: NaiveDate,
}

/// The figures per year, oldest first, and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistics {
    /// Per year.
    pub years: Vec<(i32, Figures)>,
    /// Since the first round.
    pub total: Figures,
}

/// Counts the records: published rounds, recorded sanctions, the days substantiated
/// reports were concluded, and the promotion checks a freeze refused.
pub fn count(
    published: &[Period],
    sanctions: &[RecordedSanction],
    substantiated_on: &[NaiveDate],
    deferrals: &[Deferral],
) -> Statistics {
    let mut years: BTreeMap<i32, Figures> = BTreeMap::new();
    for label in published {
        years.entry(label.year()).or_default().rounds += 1;
    }
    for s in sanctions
        .iter()
        .filter(|s| s.state == SanctionState::Confirmed)
    {
        let Some(round) = s.sanction.rounds.last() else {
            continue;
        };
        let f = years.entry(round.year()).or_default();
        match s.sanction.kind {
            SanctionKind::ReminderTalk => f.reminder_talks += 1,
            SanctionKind::Interview => f.interviews += 1,
            SanctionKind::HeadRemoved | SanctionKind::LeaderRemoved => f.removals += 1,
            SanctionKind::PromotionFreeze => f.promotion_freezes += 1,
            SanctionKind::AssessmentDeduction => f.deductions += 1,
        }
    }
    for day in substantiated_on {
        years.entry(day.year()).or_default().substantiated_reports += 1;
    }
    // One promotion deferred per person and freeze, in the year it was first refused.
    let mut deferred: BTreeMap<(PersonId, Period), NaiveDate> = BTreeMap::new();
    for d in deferrals {
        let first = deferred.entry((d.person, d.freeze)).or_insert(d.on);
        *first = (*first).min(d.on);
    }
    for day in deferred.values() {
        years.entry(day.year()).or_default().deferred_promotions += 1;
    }
    let total = years.values().fold(Figures::default(), |t, f| Figures {
        rounds: t.rounds + f.rounds,
        reminder_talks: t.reminder_talks + f.reminder_talks,
        interviews: t.interviews + f.interviews,
        removals: t.removals + f.removals,
        deferred_promotions: t.deferred_promotions + f.deferred_promotions,
        promotion_freezes: t.promotion_freezes + f.promotion_freezes,
        deductions: t.deductions + f.deductions,
        substantiated_reports: t.substantiated_reports + f.substantiated_reports,
    });
    Statistics {
        years: years.into_iter().collect(),
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PersonId, UnitId, rules::ProposedSanction};

    fn label(s: &str) -> Period {
        s.parse().unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn recorded(kind: SanctionKind, rounds: &[&str], state: SanctionState) -> RecordedSanction {
        RecordedSanction {
            sanction: ProposedSanction {
                person_id: PersonId(1),
                unit_id: UnitId(1),
                kind,
                rule: "r".into(),
                rounds: rounds.iter().map(|r| label(r)).collect(),
                from: day(2020, 1, 15),
                until: None,
                points: None,
                reason_zh: String::new(),
            },
            state,
        }
    }

    #[test]
    fn counts_confirmed_sanctions_in_the_year_of_their_round_and_reports_when_concluded() {
        use SanctionKind::*;
        use SanctionState::*;
        let sanctions = [
            recorded(ReminderTalk, &["2019Q4"], Confirmed),
            recorded(Interview, &["2019Q4"], Confirmed),
            recorded(PromotionFreeze, &["2019Q4"], Confirmed),
            recorded(Interview, &["2020Q1"], Confirmed),
            recorded(HeadRemoved, &["2019Q4", "2020Q1"], Confirmed),
            recorded(LeaderRemoved, &["2019Q4", "2020Q1", "2020Q2"], Confirmed),
            // Not executed: not counted.
            recorded(Interview, &["2020Q2"], Proposed),
            recorded(Interview, &["2020Q2"], Rejected),
        ];
        let stats = count(
            &[label("2019Q4"), label("2020Q1"), label("2020Q2")],
            &sanctions,
            &[day(2020, 3, 2), day(2021, 1, 5)],
            &[],
        );
        assert_eq!(
            stats.years.iter().map(|(y, _)| *y).collect::<Vec<_>>(),
            [2019, 2020, 2021]
        );
        let y2019 = stats.years[0].1;
        assert_eq!(
            (
                y2019.rounds,
                y2019.reminder_talks,
                y2019.interviews,
                y2019.promotion_freezes,
                y2019.deferred_promotions
            ),
            (1, 1, 1, 1, 0),
            "a freeze imposed is not a promotion deferred"
        );
        let y2020 = stats.years[1].1;
        assert_eq!(
            (
                y2020.rounds,
                y2020.interviews,
                y2020.removals,
                y2020.substantiated_reports
            ),
            (2, 1, 2, 1)
        );
        assert_eq!(stats.years[2].1.substantiated_reports, 1);
        assert_eq!(stats.total.rounds, 3);
        assert_eq!(stats.total.interviews, 2);
        assert_eq!(stats.total.removals, 2);
        assert_eq!(stats.total.substantiated_reports, 2);
    }

    #[test]
    fn a_promotion_deferred_is_a_check_a_freeze_refused_in_the_year_of_the_check() {
        use SanctionKind::*;
        use SanctionState::*;
        // Three heads frozen, one of them up for promotion and refused.
        let sanctions = [
            recorded(PromotionFreeze, &["2020Q1"], Confirmed),
            recorded(PromotionFreeze, &["2020Q1"], Confirmed),
            recorded(PromotionFreeze, &["2020Q2"], Confirmed),
        ];
        // Refused on 10 January 2021, asked again a week later under the same freeze.
        let refused = |on| Deferral {
            person: PersonId(7),
            freeze: label("2020Q2"),
            on,
        };
        let stats = count(
            &[label("2020Q1")],
            &sanctions,
            &[],
            &[refused(day(2021, 1, 17)), refused(day(2021, 1, 10))],
        );
        assert_eq!(stats.total.promotion_freezes, 3);
        assert_eq!(stats.total.deferred_promotions, 1, "one promotion deferred");
        assert_eq!(
            stats.years[1],
            (
                2021,
                Figures {
                    deferred_promotions: 1,
                    ..Figures::default()
                }
            )
        );
        // A later freeze defers a later promotion.
        let later = Deferral {
            freeze: label("2021Q1"),
            ..refused(day(2021, 6, 1))
        };
        let stats = count(&[], &[], &[], &[refused(day(2021, 1, 10)), later]);
        assert_eq!(stats.total.deferred_promotions, 2);
    }

    #[test]
    fn nothing_recorded_gives_no_years_and_a_zero_total() {
        let stats = count(&[], &[], &[], &[]);
        assert!(stats.years.is_empty());
        assert_eq!(stats.total, Figures::default());
    }
}

//! The accountability engine: from the round being finalized, the published rounds before
//! it and the posts, the sanctions the rules propose. It only proposes; an authorized person
//! confirms or rejects each one.
//!
//! Decisions, in the rules' words:
//! - **Top N** is the round's published list (the `top_n` flag of each entry, which
//!   includes every unit tied at the boundary). Nothing is proposed for a unit outside it,
//!   not even by the removal ladder; the optional threshold rule (off by default) looks
//!   only at rank 1.
//! - **Consecutive** means consecutive published rounds *of the deployment*, ordered by
//!   label. A unit absent from a round's ranking (nobody named it) was not in the top 3 of
//!   that round, so the absence breaks its run. A unit that leaves the top 3 and comes back
//!   starts a new run.
//! - **Who is sanctioned**: the person who held the post (head, supervising leader) on the
//!   publication date of the triggering round. A removal, which rests on several rounds,
//!   applies to the current holder only if they held the same post on the publication
//!   date of *every* round of the run: nobody is removed for a predecessor's results.
//! - A **retired** unit gets no new sanctions.
//! - A unit placed by a substantiated report (override) counts at its rank like any other.
//! - Output is sorted (unit, kind, person), so the same input always gives the same list.

use crate::{PersonId, Post, PostRole, RoundLabel, UnitId, ranking::Ranking, rules::Rules};
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a sanction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionKind {
    /// 谈话提醒: a reminder talk with the supervising leader.
    ReminderTalk,
    /// 约谈: an interview of the unit head.
    Interview,
    /// The head may not be promoted until a date.
    PromotionFreeze,
    /// 免职: the unit head is removed.
    HeadRemoved,
    /// 免职: the supervising leader is removed.
    LeaderRemoved,
    /// Points off the annual assessment (年度考核); the bonus (绩效奖金) marked for review.
    AssessmentDeduction,
}

impl SanctionKind {
    /// The kind's code as stored and sent in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SanctionKind::ReminderTalk => "reminder_talk",
            SanctionKind::Interview => "interview",
            SanctionKind::PromotionFreeze => "promotion_freeze",
            SanctionKind::HeadRemoved => "head_removed",
            SanctionKind::LeaderRemoved => "leader_removed",
            SanctionKind::AssessmentDeduction => "assessment_deduction",
        }
    }
}

/// Stable ids of the rules, as stored with each sanction.
pub mod rule_id {
    /// Top N: reminder talk for the supervising leader.
    pub const REMINDER_TALK: &str = "top_n_reminder_talk";
    /// Top N: interview of the head.
    pub const INTERVIEW: &str = "top_n_interview";
    /// Top N: the head's promotion freeze.
    pub const PROMOTION_FREEZE: &str = "top_n_promotion_freeze";
    /// Top N: assessment deduction and bonus review.
    pub const ASSESSMENT_DEDUCTION: &str = "top_n_assessment_deduction";
    /// Consecutive top 3: the head is removed.
    pub const HEAD_REMOVED: &str = "consecutive_top_head_removed";
    /// Consecutive top 3: the supervising leader is removed.
    pub const LEADER_REMOVED: &str = "consecutive_top_leader_removed";
    /// Wuhan style: last place below a score removes the head.
    pub const THRESHOLD: &str = "threshold_last_place_head_removed";
}

/// A sanction the rules propose for one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedSanction {
    /// Who.
    pub person_id: PersonId,
    /// For which unit's results.
    pub unit_id: UnitId,
    /// What.
    pub kind: SanctionKind,
    /// The stable id of the rule, e.g. `top_n_reminder_talk`.
    pub rule: String,
    /// The rounds that triggered it, oldest first; the last is the round being finalized.
    pub rounds: Vec<RoundLabel>,
    /// Publication date of the round being finalized: when the sanction takes effect.
    pub from: NaiveDate,
    /// Promotion freezes: the last day of the freeze.
    pub until: Option<NaiveDate>,
    /// Assessment deductions: the points taken off.
    pub points: Option<f64>,
    /// Why, in Chinese, for the console and the notice.
    pub reason_zh: String,
}

/// One line of the round being finalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundEntry {
    /// The unit.
    pub unit_id: UnitId,
    /// Its rank (1 is the hardest unit to deal with).
    pub rank: u32,
    /// Its score.
    pub score: f64,
    /// Whether it is on the published list.
    pub top_n: bool,
}

/// The round being finalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundToFinalize {
    /// Its quarter.
    pub label: RoundLabel,
    /// The day its results are published; sanctions attach to the posts held that day.
    pub published_on: NaiveDate,
    /// Its ranking.
    pub entries: Vec<RoundEntry>,
}

impl RoundToFinalize {
    /// The round from its ranking.
    pub fn from_ranking(label: RoundLabel, published_on: NaiveDate, ranking: &Ranking) -> Self {
        let entries = ranking
            .entries
            .iter()
            .map(|e| RoundEntry {
                unit_id: e.unit_id,
                rank: e.rank,
                score: e.score(),
                top_n: e.rank <= ranking.top_n,
            })
            .collect();
        Self {
            label,
            published_on,
            entries,
        }
    }
}

/// A published round before the one being finalized: only what the ladder needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastRound {
    /// Its quarter.
    pub label: RoundLabel,
    /// The day it was published.
    pub published_on: NaiveDate,
    /// The rank of every unit it ranked.
    pub ranks: BTreeMap<UnitId, u32>,
}

impl PastRound {
    /// A past round from its ranking.
    pub fn from_ranking(label: RoundLabel, published_on: NaiveDate, ranking: &Ranking) -> Self {
        Self {
            label,
            published_on,
            ranks: ranking
                .entries
                .iter()
                .map(|e| (e.unit_id, e.rank))
                .collect(),
        }
    }
}

/// Everything the engine reads.
#[derive(Debug, Clone, Copy)]
pub struct EngineInput<'a> {
    /// The round being finalized.
    pub round: &'a RoundToFinalize,
    /// The deployment's published rounds before it (any order; later rounds are ignored).
    pub history: &'a [PastRound],
    /// Every post, past and present, of the units concerned.
    pub posts: &'a [Post],
    /// Units retired or merged.
    pub retired: &'a BTreeSet<UnitId>,
}

/// One round of a unit's run in the top 3: its label and publication date.
struct RunRound {
    label: RoundLabel,
    published_on: NaiveDate,
}

/// The sanctions the rules propose for the round.
pub fn propose(rules: &Rules, input: &EngineInput<'_>) -> Vec<ProposedSanction> {
    let round = input.round;
    let date = round.published_on;
    // Published rounds before this one, newest first.
    let mut history: Vec<&PastRound> = input
        .history
        .iter()
        .filter(|r| r.label < round.label)
        .collect();
    history.sort_by_key(|r| std::cmp::Reverse(r.label));

    let mut out = Vec::new();
    // A sanction taking effect on the publication date, with no end and no points.
    let sanction = |person_id: PersonId,
                    unit_id: UnitId,
                    kind: SanctionKind,
                    rule: &str,
                    rounds: Vec<RoundLabel>,
                    reason_zh: String| ProposedSanction {
        person_id,
        unit_id,
        kind,
        rule: rule.into(),
        rounds,
        from: date,
        until: None,
        points: None,
        reason_zh,
    };
    let this = vec![round.label];
    let round_zh = round.label.display_zh();

    for entry in &round.entries {
        if input.retired.contains(&entry.unit_id) {
            continue;
        }
        let unit = entry.unit_id;
        let heads = holders(input.posts, unit, PostRole::Head, &[date]);
        let leaders = holders(input.posts, unit, PostRole::SupervisingLeader, &[date]);

        if entry.top_n {
            let place = format!("{round_zh}群众评议最难办事科室第{}名", entry.rank);
            if rules.top_n.reminder_talk {
                for &p in &leaders {
                    let reason = format!("所分管科室列{place}，对分管领导谈话提醒");
                    out.push(sanction(
                        p,
                        unit,
                        SanctionKind::ReminderTalk,
                        rule_id::REMINDER_TALK,
                        this.clone(),
                        reason,
                    ));
                }
            }
            if rules.top_n.interview {
                for &p in &heads {
                    let reason = format!("科室列{place}，对科室负责人约谈");
                    out.push(sanction(
                        p,
                        unit,
                        SanctionKind::Interview,
                        rule_id::INTERVIEW,
                        this.clone(),
                        reason,
                    ));
                }
            }
            let months = rules.top_n.promotion_freeze_months;
            if months > 0 {
                let until = freeze_until(date, months);
                for &p in &heads {
                    let reason = format!("科室列{place}，自公示之日起{months}个月内不得提拔");
                    out.push(ProposedSanction {
                        until: Some(until),
                        ..sanction(
                            p,
                            unit,
                            SanctionKind::PromotionFreeze,
                            rule_id::PROMOTION_FREEZE,
                            this.clone(),
                            reason,
                        )
                    });
                }
            }
            let points = rules.deduction.points;
            if points > 0.0 || rules.deduction.bonus_review {
                let bonus = if rules.deduction.bonus_review {
                    "，年终绩效奖金列入复核"
                } else {
                    ""
                };
                for &p in heads.union(&leaders) {
                    let reason = format!("科室列{place}，领导班子年度考核扣{points}分{bonus}");
                    out.push(ProposedSanction {
                        points: Some(points),
                        ..sanction(
                            p,
                            unit,
                            SanctionKind::AssessmentDeduction,
                            rule_id::ASSESSMENT_DEDUCTION,
                            this.clone(),
                            reason,
                        )
                    });
                }
            }

            // The run of consecutive published rounds, this one included, in the top 3.
            let removal = &rules.removal;
            let mut run = Vec::new();
            if entry.rank <= removal.top {
                run.push(RunRound {
                    label: round.label,
                    published_on: date,
                });
                for past in &history {
                    match past.ranks.get(&unit) {
                        Some(&rank) if rank <= removal.top => run.push(RunRound {
                            label: past.label,
                            published_on: past.published_on,
                        }),
                        _ => break,
                    }
                }
            }
            for (role, after, kind, rule, who) in [
                (
                    PostRole::Head,
                    removal.head_after,
                    SanctionKind::HeadRemoved,
                    rule_id::HEAD_REMOVED,
                    "科室负责人",
                ),
                (
                    PostRole::SupervisingLeader,
                    removal.leader_after,
                    SanctionKind::LeaderRemoved,
                    rule_id::LEADER_REMOVED,
                    "分管领导",
                ),
            ] {
                let after = after as usize;
                if after == 0 || run.len() < after {
                    continue;
                }
                let rounds_run = &run[..after];
                let dates: Vec<NaiveDate> = rounds_run.iter().map(|r| r.published_on).collect();
                let mut labels: Vec<RoundLabel> = rounds_run.iter().map(|r| r.label).collect();
                labels.reverse();
                let list = labels
                    .iter()
                    .map(|l| l.display_zh())
                    .collect::<Vec<_>>()
                    .join("、");
                for p in holders(input.posts, unit, role, &dates) {
                    let reason = format!(
                        "科室连续{after}次列群众评议最难办事科室前{}名（{list}），{who}免职",
                        removal.top
                    );
                    out.push(sanction(p, unit, kind, rule, labels.clone(), reason));
                }
            }
        }
    }

    if rules.threshold.enabled {
        for entry in &round.entries {
            let unit = entry.unit_id;
            if entry.rank != 1
                || entry.score < rules.threshold.min_score
                || input.retired.contains(&unit)
            {
                continue;
            }
            for p in holders(input.posts, unit, PostRole::Head, &[date]) {
                let reason = format!(
                    "科室{round_zh}评议排名末位（最难办事第1名）且得分{}达到{}分，科室负责人免职",
                    entry.score, rules.threshold.min_score
                );
                out.push(sanction(
                    p,
                    unit,
                    SanctionKind::HeadRemoved,
                    rule_id::THRESHOLD,
                    this.clone(),
                    reason,
                ));
            }
        }
    }

    out.sort_by(|a, b| {
        (a.unit_id, a.kind, a.person_id, &a.rule).cmp(&(b.unit_id, b.kind, b.person_id, &b.rule))
    });
    out
}

/// The people who held a post at a unit on every one of the dates.
fn holders(
    posts: &[Post],
    unit: UnitId,
    role: PostRole,
    dates: &[NaiveDate],
) -> BTreeSet<PersonId> {
    let holds = |person: PersonId, date: NaiveDate| {
        posts.iter().any(|p| {
            p.person_id == person && p.unit_id == unit && p.role == role && p.held_on(date)
        })
    };
    let Some((&first, rest)) = dates.split_first() else {
        return BTreeSet::new();
    };
    posts
        .iter()
        .filter(|p| p.unit_id == unit && p.role == role && p.held_on(first))
        .map(|p| p.person_id)
        .filter(|&person| rest.iter().all(|&d| holds(person, d)))
        .collect()
}

impl ProposedSanction {
    /// The same sanction taking effect on `day` instead: a round is finalized first and
    /// published days later, and sanctions run from publication. A promotion freeze keeps its
    /// length in calendar months.
    pub fn starting_on(self, day: NaiveDate) -> Self {
        let until = self.until.map(|until| {
            let months = (0..=1200)
                .find(|&m| freeze_until(self.from, m) >= until)
                .unwrap_or(0);
            freeze_until(day, months)
        });
        Self {
            from: day,
            until,
            ..self
        }
    }
}

/// The last day of a freeze of `months` from `published_on`: three months from 15 October
/// run through 14 January, and promotion is possible again on 15 January.
pub fn freeze_until(published_on: NaiveDate, months: u32) -> NaiveDate {
    published_on
        .checked_add_months(Months::new(months))
        .and_then(|d| d.checked_sub_days(Days::new(1)))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEAD: i64 = 100;
    const LEADER: i64 = 200;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn label(s: &str) -> RoundLabel {
        s.parse().unwrap()
    }

    /// Published on the 15th of the month after the quarter.
    fn published(l: RoundLabel) -> NaiveDate {
        let next = l.next();
        day(next.year() as i32, (next.quarter() as u32 - 1) * 3 + 1, 15)
    }

    fn post(
        person: i64,
        unit: i64,
        role: PostRole,
        start: NaiveDate,
        end: Option<NaiveDate>,
    ) -> Post {
        Post {
            id: person * 1000 + unit,
            person_id: PersonId(person),
            person: format!("p{person}"),
            unit_id: UnitId(unit),
            role,
            start,
            end,
        }
    }

    /// Head `HEAD + unit` and leader `LEADER + unit` for every unit, since 2010.
    fn posts(units: &[i64]) -> Vec<Post> {
        units
            .iter()
            .flat_map(|&u| {
                [
                    post(HEAD + u, u, PostRole::Head, day(2010, 1, 1), None),
                    post(
                        LEADER + u,
                        u,
                        PostRole::SupervisingLeader,
                        day(2010, 1, 1),
                        None,
                    ),
                ]
            })
            .collect()
    }

    fn round(l: &str, ranks: &[(i64, u32)]) -> RoundToFinalize {
        let l = label(l);
        RoundToFinalize {
            label: l,
            published_on: published(l),
            entries: ranks
                .iter()
                .map(|&(u, rank)| RoundEntry {
                    unit_id: UnitId(u),
                    rank,
                    score: 100.0 - rank as f64,
                    top_n: rank <= 10,
                })
                .collect(),
        }
    }

    fn past(r: &RoundToFinalize) -> PastRound {
        PastRound {
            label: r.label,
            published_on: r.published_on,
            ranks: r.entries.iter().map(|e| (e.unit_id, e.rank)).collect(),
        }
    }

    /// Replays rounds in order; returns what the last one proposes.
    fn replay(
        rounds: &[RoundToFinalize],
        posts: &[Post],
        retired: &[i64],
    ) -> Vec<ProposedSanction> {
        let (last, before) = rounds.split_last().unwrap();
        let history: Vec<PastRound> = before.iter().map(past).collect();
        let retired: BTreeSet<UnitId> = retired.iter().map(|&u| UnitId(u)).collect();
        propose(
            &Rules::default(),
            &EngineInput {
                round: last,
                history: &history,
                posts,
                retired: &retired,
            },
        )
    }

    fn kinds_for(s: &[ProposedSanction], person: i64) -> Vec<SanctionKind> {
        s.iter()
            .filter(|x| x.person_id == PersonId(person))
            .map(|x| x.kind)
            .collect()
    }

    fn removals(s: &[ProposedSanction]) -> Vec<(i64, SanctionKind, Vec<String>)> {
        s.iter()
            .filter(|x| {
                matches!(
                    x.kind,
                    SanctionKind::HeadRemoved | SanctionKind::LeaderRemoved
                )
            })
            .map(|x| {
                (
                    x.person_id.0,
                    x.kind,
                    x.rounds.iter().map(|l| l.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_unit_in_the_top_10_produces_a_talk_an_interview_a_three_month_freeze_and_a_deduction() {
        let s = replay(&[round("2020Q3", &[(7, 8)])], &posts(&[7]), &[]);
        use SanctionKind::*;
        assert_eq!(
            kinds_for(&s, LEADER + 7),
            [ReminderTalk, AssessmentDeduction]
        );
        assert_eq!(
            kinds_for(&s, HEAD + 7),
            [Interview, PromotionFreeze, AssessmentDeduction]
        );
        let freeze = s.iter().find(|x| x.kind == PromotionFreeze).unwrap();
        assert_eq!(freeze.from, day(2020, 10, 15));
        assert_eq!(freeze.until, Some(day(2021, 1, 14)));
        assert_eq!(freeze.rule, "top_n_promotion_freeze");
        assert!(
            s.iter()
                .filter(|x| x.kind == AssessmentDeduction)
                .all(|x| x.points == Some(2.0))
        );
        assert!(
            s.iter()
                .all(|x| x.rounds == [label("2020Q3")] && !x.reason_zh.is_empty())
        );
        let talk = s.iter().find(|x| x.kind == ReminderTalk).unwrap();
        assert_eq!(talk.rule, "top_n_reminder_talk");
        assert!(talk.reason_zh.contains("谈话提醒"), "{}", talk.reason_zh);
    }

    #[test]
    fn a_freeze_moved_to_the_publication_day_keeps_its_three_months() {
        let s = replay(&[round("2020Q3", &[(7, 8)])], &posts(&[7]), &[]);
        let freeze = s
            .into_iter()
            .find(|x| x.kind == SanctionKind::PromotionFreeze)
            .unwrap();
        // Finalized on 15 October, published on 20 November: the freeze runs to 19 February.
        let moved = freeze.clone().starting_on(day(2020, 11, 20));
        assert_eq!(moved.from, day(2020, 11, 20));
        assert_eq!(moved.until, Some(day(2021, 2, 19)));
        assert_eq!(moved.reason_zh, freeze.reason_zh);
        // A sanction without an end stays without one.
        let talk = ProposedSanction {
            until: None,
            ..freeze
        };
        assert_eq!(talk.starting_on(day(2020, 11, 30)).until, None);
    }

    #[test]
    fn a_unit_outside_the_top_n_gets_nothing() {
        let s = replay(
            &[round("2020Q2", &[(7, 11)]), round("2020Q3", &[(7, 11)])],
            &posts(&[7]),
            &[],
        );
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn top_3_twice_in_a_row_removes_the_head() {
        let s = replay(
            &[round("2020Q2", &[(7, 3)]), round("2020Q3", &[(7, 1)])],
            &posts(&[7]),
            &[],
        );
        assert_eq!(
            removals(&s),
            [(
                HEAD + 7,
                SanctionKind::HeadRemoved,
                vec!["2020Q2".into(), "2020Q3".into()]
            )]
        );
        let r = s
            .iter()
            .find(|x| x.kind == SanctionKind::HeadRemoved)
            .unwrap();
        assert_eq!(r.rule, "consecutive_top_head_removed");
        assert!(r.reason_zh.contains("免职"));
    }

    #[test]
    fn top_3_three_times_in_a_row_removes_the_supervising_leader() {
        let rounds = [
            round("2020Q1", &[(7, 2)]),
            round("2020Q2", &[(7, 3)]),
            round("2020Q3", &[(7, 1)]),
        ];
        let s = replay(&rounds, &posts(&[7]), &[]);
        assert_eq!(
            removals(&s),
            [
                (
                    HEAD + 7,
                    SanctionKind::HeadRemoved,
                    vec!["2020Q2".into(), "2020Q3".into()]
                ),
                (
                    LEADER + 7,
                    SanctionKind::LeaderRemoved,
                    vec!["2020Q1".into(), "2020Q2".into(), "2020Q3".into()]
                ),
            ]
        );
    }

    #[test]
    fn a_unit_that_leaves_the_top_3_and_comes_back_is_not_removed() {
        let rounds = [
            round("2020Q1", &[(7, 1)]),
            round("2020Q2", &[(7, 5)]),
            round("2020Q3", &[(7, 2)]),
        ];
        let s = replay(&rounds, &posts(&[7]), &[]);
        assert!(removals(&s).is_empty(), "{s:?}");
        // It still gets the top-N sanctions of the round.
        assert_eq!(kinds_for(&s, HEAD + 7).len(), 3);
    }

    #[test]
    fn a_round_in_which_nobody_named_the_unit_breaks_its_run() {
        let rounds = [
            round("2020Q1", &[(7, 1)]),
            round("2020Q2", &[(8, 1)]),
            round("2020Q3", &[(7, 1)]),
        ];
        assert!(removals(&replay(&rounds, &posts(&[7, 8]), &[])).is_empty());
    }

    #[test]
    fn a_head_who_changed_post_between_the_rounds_is_not_removed_for_the_predecessors_round() {
        let change = day(2020, 12, 1);
        let posts = vec![
            post(1, 7, PostRole::Head, day(2010, 1, 1), Some(change)),
            post(2, 7, PostRole::Head, change, None),
            post(
                LEADER + 7,
                7,
                PostRole::SupervisingLeader,
                day(2010, 1, 1),
                None,
            ),
        ];
        let s = replay(
            &[round("2020Q3", &[(7, 1)]), round("2020Q4", &[(7, 2)])],
            &posts,
            &[],
        );
        assert!(removals(&s).is_empty(), "{s:?}");
        // The new head is answerable for the round published on their watch.
        assert_eq!(
            kinds_for(&s, 2),
            [
                SanctionKind::Interview,
                SanctionKind::PromotionFreeze,
                SanctionKind::AssessmentDeduction
            ]
        );
        assert!(kinds_for(&s, 1).is_empty());
        // A third round in the top 3 removes the new head (two rounds on their watch) and the
        // leader, who held the post throughout.
        let s = replay(
            &[
                round("2020Q3", &[(7, 1)]),
                round("2020Q4", &[(7, 2)]),
                round("2021Q1", &[(7, 3)]),
            ],
            &posts,
            &[],
        );
        assert_eq!(
            removals(&s)
                .into_iter()
                .map(|(p, k, _)| (p, k))
                .collect::<Vec<_>>(),
            [
                (2, SanctionKind::HeadRemoved),
                (LEADER + 7, SanctionKind::LeaderRemoved)
            ]
        );
    }

    #[test]
    fn a_retired_unit_gets_nothing() {
        let s = replay(
            &[round("2020Q2", &[(7, 1)]), round("2020Q3", &[(7, 1)])],
            &posts(&[7]),
            &[7],
        );
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn a_unit_placed_first_by_a_substantiated_report_counts_like_any_other() {
        use crate::{Override, RankedUnit};
        let ranked = |unit: i64, rank: u32, over: bool| RankedUnit {
            rank,
            unit_id: UnitId(unit),
            score_milli: 0,
            nominations: 0,
            indicator_counts: vec![],
            substantiated_reports: u32::from(over),
            r#override: over.then_some(Override::SubstantiatedReport),
        };
        let ranking = Ranking {
            entries: vec![ranked(7, 1, true), ranked(8, 2, false)],
            top_n: 10,
        };
        let q3 = label("2020Q3");
        let this = RoundToFinalize::from_ranking(q3, published(q3), &ranking);
        let q2 = label("2020Q2");
        let history = [PastRound::from_ranking(q2, published(q2), &ranking)];
        let s = propose(
            &Rules::default(),
            &EngineInput {
                round: &this,
                history: &history,
                posts: &posts(&[7, 8]),
                retired: &BTreeSet::new(),
            },
        );
        assert_eq!(
            removals(&s)
                .into_iter()
                .map(|(p, k, _)| (p, k))
                .collect::<Vec<_>>(),
            [
                (HEAD + 7, SanctionKind::HeadRemoved),
                (HEAD + 8, SanctionKind::HeadRemoved)
            ]
        );
    }

    #[test]
    fn rules_turned_off_propose_nothing_of_their_kind() {
        let mut rules = Rules::default();
        rules.top_n.interview = false;
        rules.top_n.promotion_freeze_months = 0;
        rules.removal.head_after = 0;
        let r2 = round("2020Q2", &[(7, 1)]);
        let r3 = round("2020Q3", &[(7, 1)]);
        let history = [past(&r2)];
        let s = propose(
            &rules,
            &EngineInput {
                round: &r3,
                history: &history,
                posts: &posts(&[7]),
                retired: &BTreeSet::new(),
            },
        );
        assert_eq!(kinds_for(&s, HEAD + 7), [SanctionKind::AssessmentDeduction]);
    }

    #[test]
    fn the_optional_threshold_rule_removes_the_head_of_the_worst_unit_past_the_score() {
        let mut rules = Rules::default();
        rules.threshold.enabled = true;
        rules.threshold.min_score = 80.0;
        // Unit 9 is worst (rank 1) with a score past the floor; unit 7 is also past it
        // but not worst; unit 8 is worst-but-one.
        let mut r = round("2020Q3", &[(7, 11), (8, 2), (9, 1)]);
        r.entries[0].score = 90.0;
        r.entries[1].score = 85.0;
        r.entries[2].score = 80.0;
        let input = EngineInput {
            round: &r,
            history: &[],
            posts: &posts(&[7, 8, 9]),
            retired: &BTreeSet::new(),
        };
        let s = propose(&rules, &input);
        assert_eq!(
            removals(&s),
            [(HEAD + 9, SanctionKind::HeadRemoved, vec!["2020Q3".into()])]
        );
        assert!(
            s.iter()
                .any(|x| x.rule == "threshold_last_place_head_removed")
        );
        // Off by default.
        assert!(removals(&propose(&Rules::default(), &input)).is_empty());
        // A worst unit short of the floor keeps its head.
        let mut quiet = r.clone();
        quiet.entries[2].score = 79.5;
        let input = EngineInput {
            round: &quiet,
            ..input
        };
        assert!(removals(&propose(&rules, &input)).is_empty());
    }

    #[test]
    fn sanction_kinds_serialize_as_their_api_names() {
        use SanctionKind::*;
        for k in [
            ReminderTalk,
            Interview,
            PromotionFreeze,
            HeadRemoved,
            LeaderRemoved,
            AssessmentDeduction,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(HeadRemoved.as_str(), "head_removed");
    }

    fn arb_rounds() -> impl Strategy<Value = Vec<Vec<(i64, u32)>>> {
        prop::collection::vec(prop::collection::btree_map(1i64..12, 1u32..15, 0..10), 1..6)
            .prop_map(|rounds| {
                rounds
                    .into_iter()
                    .map(|m| m.into_iter().collect())
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn the_engine_is_deterministic_and_never_sanctions_a_unit_outside_the_top_n(
            rounds in arb_rounds(),
            retired in prop::collection::btree_set(1i64..12, 0..3),
        ) {
            let mut label = label("2019Q1");
            let rounds: Vec<RoundToFinalize> = rounds
                .iter()
                .map(|ranks| {
                    label = label.next();
                    round(&label.to_string(), ranks)
                })
                .collect();
            let units: Vec<i64> = (1..12).collect();
            let retired: Vec<i64> = retired.into_iter().collect();
            let a = replay(&rounds, &posts(&units), &retired);
            prop_assert_eq!(&a, &replay(&rounds, &posts(&units), &retired));
            // Shuffled history and posts give the same answer.
            let mut reversed = rounds.clone();
            let last = reversed.pop().unwrap();
            reversed.reverse();
            reversed.push(last);
            let mut rposts = posts(&units);
            rposts.reverse();
            prop_assert_eq!(&a, &replay(&reversed, &rposts, &retired));
            let this = rounds.last().unwrap();
            for s in &a {
                let entry = this.entries.iter().find(|e| e.unit_id == s.unit_id);
                prop_assert!(entry.is_some_and(|e| e.top_n), "{:?}", s);
                prop_assert!(!retired.contains(&s.unit_id.0));
            }
        }
    }
}

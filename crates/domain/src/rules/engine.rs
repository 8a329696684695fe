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
//!   period (a skipped quarter does not break a run: the rounds held are consecutive). A unit absent from a round's ranking (nobody named it) was not in the top 3 of
//!   that round, so the absence breaks its run. A unit that leaves the top 3 and comes back
//!   starts a new run.
//! - **Reminder talk and interview**: every listing brings the supervising leader a reminder
//!   talk (谈话提醒). The head is interviewed (约谈) when the unit is listed in
//!   `interview_after_consecutive` consecutive published rounds (default 2: listed again
//!   right after a listing, as the article's 殡仪馆 was) or placed in the top
//!   `interview_top` (default 3). Over the article's 16 rounds this gives about one
//!   interview for three talks (137 talks, 42 interviews).
//! - **Who is sanctioned**: the person who held the post (head, supervising leader) on the
//!   triggering round's date — the day it is finalized, when its proposals are made (the
//!   organizer reviews each before publication). A sanction resting on several rounds (a
//!   removal, an interview for consecutive listings) applies to the current holder only if
//!   they held the same post on the date of *every* round of the run (the publication date
//!   of the earlier ones): nobody answers for a predecessor's results.
//! - A unit **retired** before the round's period began was not evaluated in it and gets
//!   nothing from it. A unit retired later keeps the consequences of the rounds it was
//!   listed in: retirement is taken as of the round, not as of the day the engine runs.
//! - A unit placed by a substantiated report (override) counts at its rank like any other.
//! - Output is sorted (unit, kind, person), so the same input always gives the same list.

use crate::{Period, PersonId, Post, PostRole, UnitId, ranking::Ranking, rules::Rules};
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
    pub rounds: Vec<Period>,
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
    /// Its period.
    pub period: Period,
    /// The round's date: the day it is finalized, when its proposals are made (before
    /// publication); sanctions attach to the posts held that day.
    pub published_on: NaiveDate,
    /// Its ranking.
    pub entries: Vec<RoundEntry>,
    /// N: the size of its published list.
    pub top_n: u32,
}

impl RoundToFinalize {
    /// The round from its ranking.
    pub fn from_ranking(period: Period, published_on: NaiveDate, ranking: &Ranking) -> Self {
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
            period,
            published_on,
            entries,
            top_n: ranking.top_n,
        }
    }
}

/// A published round before the one being finalized: only what the ladder needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastRound {
    /// Its period.
    pub period: Period,
    /// The day it was published.
    pub published_on: NaiveDate,
    /// The rank of every unit it ranked.
    pub ranks: BTreeMap<UnitId, u32>,
    /// N of that round: the units ranked N or better were listed.
    pub top_n: u32,
}

impl PastRound {
    /// A past round from its ranking.
    pub fn from_ranking(period: Period, published_on: NaiveDate, ranking: &Ranking) -> Self {
        Self {
            period,
            published_on,
            ranks: ranking
                .entries
                .iter()
                .map(|e| (e.unit_id, e.rank))
                .collect(),
            top_n: ranking.top_n,
        }
    }

    /// Whether the unit was placed at `top` or better in this round.
    fn placed(&self, unit: UnitId, top: u32) -> bool {
        self.ranks.get(&unit).is_some_and(|&rank| rank <= top)
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
    /// Units retired or merged, with the day each was retired.
    pub retired: &'a BTreeMap<UnitId, NaiveDate>,
}

/// One round of a unit's run of consecutive placements: its label and publication date.
struct RunRound {
    period: Period,
    published_on: NaiveDate,
}

/// The unit's run of consecutive published rounds, newest first and this round included,
/// in which it was placed at the rank `top(round)` or better; empty if it was not placed so
/// in this round.
fn run(
    this: &RoundToFinalize,
    rank: u32,
    history: &[&PastRound],
    unit: UnitId,
    top: impl Fn(Option<&PastRound>) -> u32,
) -> Vec<RunRound> {
    let mut run = Vec::new();
    if rank > top(None) {
        return run;
    }
    run.push(RunRound {
        period: this.period,
        published_on: this.published_on,
    });
    for past in history {
        if !past.placed(unit, top(Some(past))) {
            break;
        }
        run.push(RunRound {
            period: past.period,
            published_on: past.published_on,
        });
    }
    run
}

/// The labels (oldest first) and publication days of the newest `n` rounds of a run.
fn newest(run: &[RunRound], n: usize) -> (Vec<Period>, Vec<NaiveDate>) {
    let rounds = &run[..n];
    let mut labels: Vec<Period> = rounds.iter().map(|r| r.period).collect();
    labels.reverse();
    (labels, rounds.iter().map(|r| r.published_on).collect())
}

/// Rounds in Chinese, joined: 2020年第2季度、2020年第3季度.
fn list_zh(labels: &[Period]) -> String {
    labels
        .iter()
        .map(|l| l.display_zh())
        .collect::<Vec<_>>()
        .join("、")
}

/// The sanctions the rules propose for the round.
pub fn propose(rules: &Rules, input: &EngineInput<'_>) -> Vec<ProposedSanction> {
    let round = input.round;
    let date = round.published_on;
    // Published rounds before this one, newest first.
    let mut history: Vec<&PastRound> = input
        .history
        .iter()
        .filter(|r| r.period < round.period)
        .collect();
    history.sort_by_key(|r| std::cmp::Reverse(r.period));

    let mut out = Vec::new();
    // A sanction taking effect on the publication date, with no end and no points.
    let sanction = |person_id: PersonId,
                    unit_id: UnitId,
                    kind: SanctionKind,
                    rule: &str,
                    rounds: Vec<Period>,
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
    let this = vec![round.period];
    let round_zh = round.period.display_zh();

    // A unit retired before the round's period began was not evaluated in it.
    let not_evaluated = |unit: &UnitId| {
        input
            .retired
            .get(unit)
            .is_some_and(|&on| on <= round.period.start())
    };
    for entry in &round.entries {
        if not_evaluated(&entry.unit_id) {
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
                // One interview per head and round: for consecutive listings if they held the
                // post through them, else for a place in the top ranks.
                let mut interviewed = BTreeSet::new();
                let again = rules.top_n.interview_after_consecutive as usize;
                let listed = run(round, entry.rank, &history, unit, |r| {
                    r.map_or(round.top_n, |r| r.top_n)
                });
                if again > 0 && listed.len() >= again {
                    let (labels, dates) = newest(&listed, again);
                    let reason = format!(
                        "科室连续{again}次列群众评议最难办事科室前{}名（{}），对科室负责人约谈",
                        round.top_n,
                        list_zh(&labels)
                    );
                    for p in holders(input.posts, unit, PostRole::Head, &dates) {
                        interviewed.insert(p);
                        out.push(sanction(
                            p,
                            unit,
                            SanctionKind::Interview,
                            rule_id::INTERVIEW,
                            labels.clone(),
                            reason.clone(),
                        ));
                    }
                }
                let top = rules.top_n.interview_top;
                if top > 0 && entry.rank <= top {
                    for &p in heads.difference(&interviewed) {
                        let reason = format!("科室列{place}（前{top}名），对科室负责人约谈");
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
                    let reason = if points > 0.0 {
                        format!("科室列{place}，领导班子年度考核扣{points}分{bonus}")
                    } else {
                        format!("科室列{place}，纳入领导班子和领导干部年度考核{bonus}")
                    };
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
            let run = run(round, entry.rank, &history, unit, |_| removal.top);
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
                let (labels, dates) = newest(&run, after);
                let list = list_zh(&labels);
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
            if entry.rank != 1 || entry.score < rules.threshold.min_score || not_evaluated(&unit) {
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
#[path = "engine_tests.rs"]
mod tests;

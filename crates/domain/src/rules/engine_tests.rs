//! The engine's scenarios and properties, each rule on its own and the ladder over rounds.

use super::*;
use proptest::prelude::*;

const HEAD: i64 = 100;
const LEADER: i64 = 200;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn label(s: &str) -> Period {
    s.parse().unwrap()
}

/// Published on the 15th of the month after the quarter.
fn published(l: Period) -> NaiveDate {
    l.next_quarter().start() + chrono::Days::new(14)
}

fn post(person: i64, unit: i64, role: PostRole, start: NaiveDate, end: Option<NaiveDate>) -> Post {
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
        period: l,
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
        top_n: 10,
    }
}

fn past(r: &RoundToFinalize) -> PastRound {
    PastRound {
        period: r.period,
        published_on: r.published_on,
        ranks: r.entries.iter().map(|e| (e.unit_id, e.rank)).collect(),
        top_n: r.top_n,
    }
}

/// Replays rounds in order; returns what the last one proposes.
fn replay(rounds: &[RoundToFinalize], posts: &[Post], retired: &[i64]) -> Vec<ProposedSanction> {
    let (last, before) = rounds.split_last().unwrap();
    let history: Vec<PastRound> = before.iter().map(past).collect();
    // Retired long before any of the rounds.
    let retired: BTreeMap<UnitId, NaiveDate> = retired
        .iter()
        .map(|&u| (UnitId(u), day(2000, 1, 1)))
        .collect();
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
fn a_unit_in_the_top_10_produces_a_talk_a_three_month_freeze_and_a_deduction() {
    let s = replay(&[round("2020Q3", &[(7, 8)])], &posts(&[7]), &[]);
    use SanctionKind::*;
    assert_eq!(
        kinds_for(&s, LEADER + 7),
        [ReminderTalk, AssessmentDeduction]
    );
    assert_eq!(
        kinds_for(&s, HEAD + 7),
        [PromotionFreeze, AssessmentDeduction],
        "listed once, at 8th: no interview"
    );
    let freeze = s.iter().find(|x| x.kind == PromotionFreeze).unwrap();
    assert_eq!(freeze.from, day(2020, 10, 15));
    assert_eq!(freeze.until, Some(day(2021, 1, 14)));
    assert_eq!(freeze.rule, "top_n_promotion_freeze");
    assert!(
        s.iter().filter(|x| x.kind == AssessmentDeduction).all(
            |x| x.points == Some(0.0) && x.reason_zh.contains("纳入领导班子和领导干部年度考核")
        )
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
fn a_single_listing_outside_the_top_3_brings_a_reminder_talk_but_no_interview() {
    let s = replay(&[round("2020Q3", &[(7, 4)])], &posts(&[7]), &[]);
    assert!(kinds_for(&s, LEADER + 7).contains(&SanctionKind::ReminderTalk));
    assert!(!kinds_for(&s, HEAD + 7).contains(&SanctionKind::Interview));
}

#[test]
fn a_unit_listed_in_two_consecutive_rounds_has_its_head_interviewed() {
    // 殡仪馆: listed twice in 2015, its head was interviewed.
    let s = replay(
        &[round("2015Q1", &[(7, 6)]), round("2015Q2", &[(7, 9)])],
        &posts(&[7]),
        &[],
    );
    let interview: Vec<_> = s
        .iter()
        .filter(|x| x.kind == SanctionKind::Interview)
        .collect();
    assert_eq!(interview.len(), 1);
    assert_eq!(interview[0].person_id, PersonId(HEAD + 7));
    assert_eq!(interview[0].rounds, [label("2015Q1"), label("2015Q2")]);
    assert!(
        interview[0].reason_zh.contains("连续2次"),
        "{}",
        interview[0].reason_zh
    );
    // A round off the list in between: no interview for 8th place.
    let s = replay(
        &[
            round("2015Q1", &[(7, 6)]),
            round("2015Q2", &[(7, 11)]),
            round("2015Q3", &[(7, 8)]),
        ],
        &posts(&[7]),
        &[],
    );
    assert!(!kinds_for(&s, HEAD + 7).contains(&SanctionKind::Interview));
}

#[test]
fn a_unit_in_the_top_3_has_its_head_interviewed_once_even_when_also_listed_again() {
    let s = replay(&[round("2020Q3", &[(7, 3)])], &posts(&[7]), &[]);
    let interview = s
        .iter()
        .find(|x| x.kind == SanctionKind::Interview)
        .expect("an interview for 3rd place");
    assert!(
        interview.reason_zh.contains("前3名"),
        "{}",
        interview.reason_zh
    );
    let s = replay(
        &[round("2020Q2", &[(7, 5)]), round("2020Q3", &[(7, 2)])],
        &posts(&[7]),
        &[],
    );
    let interviews = s
        .iter()
        .filter(|x| x.kind == SanctionKind::Interview)
        .count();
    assert_eq!(interviews, 1);
}

#[test]
fn the_interview_conditions_follow_the_rules_file() {
    let mut rules = Rules::default();
    rules.top_n.interview_after_consecutive = 1;
    rules.top_n.interview_top = 0;
    let r = round("2020Q3", &[(7, 9)]);
    let s = propose(
        &rules,
        &EngineInput {
            round: &r,
            history: &[],
            posts: &posts(&[7]),
            retired: &BTreeMap::new(),
        },
    );
    assert!(kinds_for(&s, HEAD + 7).contains(&SanctionKind::Interview));
    rules.top_n.interview_after_consecutive = 0;
    let s = propose(
        &rules,
        &EngineInput {
            round: &r,
            history: &[],
            posts: &posts(&[7]),
            retired: &BTreeMap::new(),
        },
    );
    assert!(!kinds_for(&s, HEAD + 7).contains(&SanctionKind::Interview));
}

#[test]
fn a_unit_retired_after_the_round_began_keeps_the_consequences_of_its_listing() {
    // 出租汽车管理科: 1st in 2024Q2, 10th in 2024Q3, merged away in 2025.
    let q2 = round("2024Q2", &[(7, 1)]);
    let q3 = round("2024Q3", &[(7, 10)]);
    let history = [past(&q2)];
    let retired = BTreeMap::from([(UnitId(7), day(2025, 1, 20))]);
    let s = propose(
        &Rules::default(),
        &EngineInput {
            round: &q3,
            history: &history,
            posts: &posts(&[7]),
            retired: &retired,
        },
    );
    assert!(kinds_for(&s, LEADER + 7).contains(&SanctionKind::ReminderTalk));
    assert!(kinds_for(&s, HEAD + 7).contains(&SanctionKind::Interview));
    // Retired during the quarter itself: still listed, still answerable.
    let retired = BTreeMap::from([(UnitId(7), day(2024, 8, 1))]);
    let s = propose(
        &Rules::default(),
        &EngineInput {
            round: &q3,
            history: &history,
            posts: &posts(&[7]),
            retired: &retired,
        },
    );
    assert!(!s.is_empty());
}

#[test]
fn a_unit_retired_before_the_round_began_gets_nothing_from_it() {
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
        by_channel: Default::default(),
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
            retired: &BTreeMap::new(),
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
            retired: &BTreeMap::new(),
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
        retired: &BTreeMap::new(),
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
    prop::collection::vec(prop::collection::btree_map(1i64..12, 1u32..15, 0..10), 1..6).prop_map(
        |rounds| {
            rounds
                .into_iter()
                .map(|m| m.into_iter().collect())
                .collect()
        },
    )
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
                label = label.next_quarter();
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

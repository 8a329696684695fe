//! The demo district, seeded through the workflows as of a fixed day: its history is
//! realistic and reproducible, every listed unit carries the sanctions the rules give it
//! (checked against a recompute of the ladder written here from the published rankings
//! alone), its statistics show interviews in the article's proportion to reminder talks,
//! and the units with a substantiated report in the open quarter share rank 1 once the open
//! round is finalized.

use chrono::{NaiveDate, TimeZone, Utc};
use indicatif::ProgressBar;
use minping::demo::{self, ARTICLE_UNITS, Summary};
use minping_app::{App, Config};
use minping_domain::{PersonId, Post, PostRole, RoundState, UnitId, rules::SanctionState};
use minping_storage::{SqliteStore, Storage};
use minping_web::{AppState, Application};
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

/// The day the demo is seeded as of (a late-quarter day, so the open round holds ballots).
fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 4, 0, 0).unwrap()
}

async fn seeded(seed: u64) -> (tempfile::TempDir, Arc<dyn Storage>, Config, Summary) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load(dir.path(), None).unwrap();
    let store: Arc<dyn Storage> = Arc::new(
        SqliteStore::open(&dir.path().join("minping.db"))
            .await
            .unwrap(),
    );
    let started = std::time::Instant::now();
    let summary = demo::seed(store.clone(), &config, seed, now(), &ProgressBar::hidden())
        .await
        .unwrap();
    eprintln!("seeded in {:?}: {summary:?}", started.elapsed());
    (dir, store, config, summary)
}

/// Each published round's ranking as (unit, rank, score), oldest round first.
async fn rankings(store: &dyn Storage) -> Vec<(String, Vec<(i64, u32, i64)>)> {
    let mut out = Vec::new();
    for round in store.rounds().await.unwrap().into_iter().rev() {
        if let Some(frozen) = store.frozen_ranking(round.id).await.unwrap() {
            let lines = frozen
                .ranking
                .entries
                .iter()
                .map(|e| (e.unit_id.0, e.rank, e.score_milli))
                .collect();
            out.push((round.period.to_string(), lines));
        }
    }
    out
}

/// The day a round reached `to`, in the deployment's zone (Asia/Shanghai).
async fn day_of(store: &dyn Storage, round: minping_domain::RoundId, to: RoundState) -> NaiveDate {
    let tz = chrono_tz::Asia::Shanghai;
    store
        .transitions(round)
        .await
        .unwrap()
        .iter()
        .find(|t| t.to == to)
        .map(|t| t.at.with_timezone(&tz).date_naive())
        .unwrap()
}

/// Who held a post at a unit on a day.
fn holders(posts: &[Post], unit: UnitId, role: PostRole, day: NaiveDate) -> BTreeSet<PersonId> {
    posts
        .iter()
        .filter(|p| p.unit_id == unit && p.role == role && p.held_on(day))
        .map(|p| p.person_id)
        .collect()
}

/// The sanctions the default rules give a published history, recomputed here from the
/// published rankings and the posts alone, round by round, as (round, person, unit, kind):
/// - every listed unit (rank ≤ N): a reminder talk for its supervising leader, a promotion
///   freeze for its head, the assessment record for both;
/// - an interview for its head if the unit was listed in the previous published round too
///   (and the head held the post through both) or is in the top 3;
/// - top 3 in two consecutive published rounds removes the head, in three the leader (who
///   held the post through all of them).
///
/// The round's own post-holders are those on its finalization day (sanctions are proposed
/// then, and move to the publication day when published); earlier rounds count from their
/// publication days. Posts are as the round recorded them when it closed: one recorded
/// later, even dated earlier, does not move a proposal.
async fn recompute(store: &dyn Storage) -> BTreeMap<(String, i64, i64, String), usize> {
    let mut published = store.rounds().await.unwrap();
    published.retain(|r| r.state == RoundState::Published);
    published.reverse();
    // (posts as at close, period, finalized on, published on, ranks, N)
    let mut history = Vec::new();
    for r in &published {
        let frozen = store.frozen_ranking(r.id).await.unwrap().unwrap();
        let ranks: BTreeMap<UnitId, u32> = frozen
            .ranking
            .entries
            .iter()
            .map(|e| (e.unit_id, e.rank))
            .collect();
        let posts = store.org_snapshot(r.id).await.unwrap().unwrap().posts;
        history.push((
            posts,
            r.period.to_string(),
            day_of(store, r.id, RoundState::Finalized).await,
            day_of(store, r.id, RoundState::Published).await,
            ranks,
            frozen.ranking.top_n,
        ));
    }
    let mut expected: BTreeMap<(String, i64, i64, String), usize> = BTreeMap::new();
    let mut add = |round: &str, person: PersonId, unit: UnitId, kind: &str| {
        *expected
            .entry((round.to_string(), person.0, unit.0, kind.to_string()))
            .or_default() += 1;
    };
    for (k, (posts, period, finalized, _, ranks, n)) in history.iter().enumerate() {
        let posts = posts.as_slice();
        for (&unit, &rank) in ranks.iter().filter(|(_, r)| **r <= *n) {
            let heads = holders(posts, unit, PostRole::Head, *finalized);
            let leaders = holders(posts, unit, PostRole::SupervisingLeader, *finalized);
            for &l in &leaders {
                add(period, l, unit, "reminder_talk");
            }
            for &h in &heads {
                add(period, h, unit, "promotion_freeze");
            }
            for &p in heads.union(&leaders) {
                add(period, p, unit, "assessment_deduction");
            }
            // Consecutive runs: listed (rank ≤ N) and in the top 3, with each round's date.
            let run = |within: &dyn Fn(u32, u32) -> bool| {
                let mut dates = vec![*finalized];
                for (_, _, _, published, earlier, n) in history[..k].iter().rev() {
                    match earlier.get(&unit) {
                        Some(&r) if within(r, *n) => dates.push(*published),
                        _ => break,
                    }
                }
                dates
            };
            let through = |role: PostRole, dates: &[NaiveDate]| -> BTreeSet<PersonId> {
                let mut who = holders(posts, unit, role, dates[0]);
                for d in &dates[1..] {
                    who = who
                        .intersection(&holders(posts, unit, role, *d))
                        .copied()
                        .collect();
                }
                who
            };
            let listed = run(&|r, n| r <= n);
            let mut interviewed = if listed.len() >= 2 {
                through(PostRole::Head, &listed[..2])
            } else {
                BTreeSet::new()
            };
            if rank <= 3 {
                interviewed.extend(heads.iter().copied());
            }
            for h in interviewed {
                add(period, h, unit, "interview");
            }
            if rank <= 3 {
                let top3 = run(&|r, _| r <= 3);
                if top3.len() >= 2 {
                    for h in through(PostRole::Head, &top3[..2]) {
                        add(period, h, unit, "head_removed");
                    }
                }
                if top3.len() >= 3 {
                    for l in through(PostRole::SupervisingLeader, &top3[..3]) {
                        add(period, l, unit, "leader_removed");
                    }
                }
            }
        }
    }
    expected
}

#[tokio::test]
async fn the_demo_district_is_a_realistic_reproducible_history_that_carries_the_rules_consequences()
{
    let (dir, store, config, summary) = seeded(2014).await;
    let store = store.as_ref();

    // The organisation, with the article's units, and a unit retired along the way.
    let agencies = store.agencies().await.unwrap();
    let units = store.units().await.unwrap();
    assert!(agencies.len() >= 25, "{} agencies", agencies.len());
    assert!(units.len() >= 90, "{} units", units.len());
    assert_eq!(
        (summary.agencies, summary.units),
        (agencies.len(), units.len())
    );
    for (agency, name) in ARTICLE_UNITS {
        assert!(
            units
                .iter()
                .any(|u| u.agency == agency && u.name == name && u.kind == "科室"),
            "{agency} {name} is missing"
        );
    }
    let taxi = units.iter().find(|u| u.name == "出租汽车管理科").unwrap();
    assert!(
        !taxi.active && taxi.retired_on.is_some(),
        "a unit was retired"
    );

    // 20 published quarters and the open one, nothing in between.
    let rounds = store.rounds().await.unwrap();
    let published: Vec<_> = rounds
        .iter()
        .filter(|r| r.state == RoundState::Published)
        .collect();
    let open: Vec<_> = rounds
        .iter()
        .filter(|r| r.state == RoundState::Open)
        .collect();
    assert_eq!(published.len(), 20);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].period.to_string(), "2026Q4");
    assert_eq!(open[0].id, summary.open_round);
    assert_eq!(
        rounds.len(),
        published.len() + 1,
        "no round in another state"
    );
    let in_open = store.ballot_count(open[0].id).await.unwrap();
    assert!(
        (100..=600).contains(&in_open),
        "{in_open} ballots in the open round"
    );
    let mut total = 0;
    for r in &rounds {
        total += store.ballot_count(r.id).await.unwrap();
    }
    assert_eq!(total, summary.ballots);

    // The top 10 changes, units listed once leave the list later, steps are in order and
    // never in the future, and each round drew and mailed its panel.
    let mut tops: Vec<BTreeSet<UnitId>> = Vec::new();
    let mut ranks: Vec<BTreeMap<UnitId, u32>> = Vec::new();
    for round in published.iter().rev() {
        let frozen = store.frozen_ranking(round.id).await.unwrap().unwrap();
        assert!(frozen.ranking.entries.len() >= 10, "{}", round.period);
        tops.push(frozen.ranking.top().map(|e| e.unit_id).collect());
        ranks.push(
            frozen
                .ranking
                .entries
                .iter()
                .map(|e| (e.unit_id, e.rank))
                .collect(),
        );
        let t = store.transitions(round.id).await.unwrap();
        assert!(t.windows(2).all(|w| w[0].at <= w[1].at), "{}", round.period);
        assert!(
            t.iter().all(|s| s.at <= now()),
            "{} not in the future",
            round.period
        );
        assert!(t.iter().all(|s| s.actor == "organizer"), "{}", round.period);
        assert_eq!(store.sample(round.id).await.unwrap().len(), 1000);
    }
    assert!(
        tops.windows(2).any(|w| w[0] != w[1]),
        "the top 10 never changes"
    );
    // For this seed the article's story shows: 殡仪馆 listed in two consecutive early rounds
    // and not in the last two years, 不动产登记中心 at ranks 1 and 4, 基础教育科 at 7.
    let id_of = |agency: &str, name: &str| {
        units
            .iter()
            .find(|u| u.agency == agency && u.name == name)
            .unwrap()
            .id
    };
    let funeral = id_of("区民政局", "殡仪馆");
    assert!(tops[0].contains(&funeral) && tops[1].contains(&funeral));
    assert!(tops[tops.len() - 8..].iter().all(|t| !t.contains(&funeral)));
    let ranks_of =
        |unit: UnitId| -> Vec<u32> { ranks.iter().filter_map(|r| r.get(&unit).copied()).collect() };
    let registry = ranks_of(id_of("区规划和自然资源局", "不动产登记中心"));
    assert!(
        registry.contains(&1) && registry.contains(&4),
        "{registry:?}"
    );
    let education = ranks_of(id_of("区教委", "基础教育科"));
    assert!(education.contains(&7), "{education:?}");
    let ever: BTreeSet<UnitId> = tops.iter().flatten().copied().collect();
    assert!(ever.len() > 20, "only {} units ever listed", ever.len());

    // Every unit has a head and a supervising leader; heads change; the article's people.
    let posts = store.posts().await.unwrap();
    for unit in &units {
        for role in [PostRole::Head, PostRole::SupervisingLeader] {
            assert!(
                posts.iter().any(|p| p.unit_id == unit.id && p.role == role),
                "{} {} has no {role:?}",
                unit.agency,
                unit.name
            );
        }
    }
    let people = store.people().await.unwrap();
    assert_eq!(people.len(), summary.people);
    for name in ["吴小琴", "周萍", "刘高勇"] {
        assert!(people.iter().any(|p| p.name == name), "{name}");
    }

    // Every listed unit of every published round carries exactly the sanctions the rules
    // give it, all confirmed; 出租汽车管理科 keeps those of the rounds it was listed in.
    let mut stored: BTreeMap<(String, i64, i64, String), usize> = BTreeMap::new();
    for round in &published {
        for s in store.sanctions(round.id).await.unwrap() {
            assert_eq!(s.state, SanctionState::Confirmed);
            assert_eq!(s.proposal.rounds.last(), Some(&round.period));
            *stored
                .entry((
                    round.period.to_string(),
                    s.proposal.person_id.0,
                    s.proposal.unit_id.0,
                    s.proposal.kind.as_str().to_string(),
                ))
                .or_default() += 1;
        }
    }
    let expected = recompute(store).await;
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, n)| stored.get(*k) != Some(n))
        .collect();
    let extra: Vec<_> = stored
        .iter()
        .filter(|(k, n)| expected.get(*k) != Some(n))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    assert_eq!(stored.values().sum::<usize>(), summary.sanctions);
    assert!(
        stored.keys().any(|(_, _, u, _)| *u == taxi.id.0),
        "出租汽车管理科 was listed before it was retired, and answered for it"
    );
    let removals: Vec<_> = stored
        .keys()
        .filter(|(_, _, _, k)| k == "head_removed" || k == "leader_removed")
        .collect();
    assert!(!removals.is_empty(), "the history removes somebody");
    // A removed head left the post, and the unit had a new head.
    for (period, person, unit, kind) in &removals {
        if kind != "head_removed" {
            continue;
        }
        let held: Vec<&Post> = posts
            .iter()
            .filter(|p| p.unit_id.0 == *unit && p.role == PostRole::Head)
            .collect();
        let theirs = held
            .iter()
            .find(|p| p.person_id.0 == *person)
            .unwrap_or_else(|| panic!("{period}: the removed head's post"));
        let ended = theirs.end.expect("a removed head's post ended");
        assert!(
            held.iter()
                .any(|p| p.start == ended && p.person_id.0 != *person),
            "{period}: a new head on the day the removal took effect"
        );
    }

    // A reproducible history: the same seed gives the same rankings.
    let (_dir2, again, _, summary2) = seeded(2014).await;
    assert_eq!(
        (summary.ballots, summary.sanctions),
        (summary2.ballots, summary2.sanctions)
    );
    assert_eq!(rankings(store).await, rankings(again.as_ref()).await);

    // Served: the statistics count what the records hold, interviews at about a third of
    // reminder talks as in the article (137 and 42), promotions deferred from the checks.
    let reopened = SqliteStore::open(&dir.path().join("minping.db"))
        .await
        .unwrap();
    let app = App::new(Arc::new(reopened), config);
    // Every staff action of the district's history is in the audit log, whose chain holds,
    // with each published round's head found in it.
    let verified = minping_app::audit::verify(&app).await.unwrap().unwrap();
    assert!(verified.len > 1000, "{} events", verified.len);
    assert_eq!(verified.published.len(), 20);
    let token =
        minping_app::accounts::issue_token(&app, "organizer", &minping_storage::Actor::system())
            .await
            .unwrap()
            .token;
    let state = Arc::new(AppState::new(app, "http://127.0.0.1".into()).without_background_scan());
    let server = Application::build(state.clone(), "127.0.0.1:0")
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    tokio::spawn(server.run());
    let client = reqwest::Client::new();
    let stats: Value = client
        .get(format!("{base}/api/v1/statistics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let figure = |k: &str| stats["total"][k].as_u64().unwrap();
    let count = |kind: &str| {
        stored
            .iter()
            .filter(|(k, _)| k.3 == kind)
            .map(|(_, n)| *n as u64)
            .sum::<u64>()
    };
    assert_eq!(figure("reminder_talks"), count("reminder_talk"));
    assert_eq!(figure("interviews"), count("interview"));
    assert_eq!(
        figure("removals"),
        count("head_removed") + count("leader_removed")
    );
    assert_eq!(figure("promotion_freezes"), count("promotion_freeze"));
    let share = figure("interviews") as f64 / figure("reminder_talks") as f64;
    assert!(
        (0.20..=0.45).contains(&share),
        "interviews are {:.0}% of reminder talks",
        share * 100.0
    );
    let checks = state.store().promotion_checks().await.unwrap();
    let deferred = checks.iter().filter(|c| !c.answer.eligible).count() as u64;
    assert!(deferred > 0 && deferred < checks.len() as u64);
    assert_eq!(figure("deferred_promotions"), deferred);
    assert!(figure("deferred_promotions") < figure("promotion_freezes"));
    assert_eq!(figure("rounds"), 20);
    assert_eq!(figure("substantiated_reports"), 5);
    let years = stats["years"].as_array().unwrap();
    assert!(years.len() >= 5, "{} years", years.len());
    let page = client
        .get(format!("{base}/statistics?lang=zh"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let total_row = &page[page.find("id=\"total\"").expect("a total row")..];
    let total_row = &total_row[..total_row.find("</tr>").unwrap()];
    for n in [
        figure("reminder_talks"),
        figure("interviews"),
        figure("removals"),
    ] {
        assert!(
            total_row.contains(&format!("<td>{n}</td>")),
            "{n} in {total_row}"
        );
    }

    // The open quarter's two substantiated reports put both their units at rank 1 once the
    // round is closed and finalized; the next unit is third.
    let open = summary.open_round.0;
    for to in ["closed", "finalized"] {
        let r = client
            .post(format!("{base}/api/v1/rounds/{open}/transition"))
            .bearer_auth(&token)
            .json(&json!({ "to": to }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{to}: {}", r.text().await.unwrap());
    }
    let results: Value = client
        .get(format!("{base}/api/v1/rounds/{open}/results"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ranking = results["ranking"].as_array().unwrap();
    let reported: BTreeSet<&str> = ["食品经营许可科", "建设工程质量安全监督站"].into();
    let at_one: BTreeSet<&str> = ranking
        .iter()
        .filter(|r| r["rank"] == 1)
        .map(|r| r["unit"].as_str().unwrap())
        .collect();
    assert_eq!(at_one, reported);
    assert!(
        ranking
            .iter()
            .filter(|r| r["rank"] == 1)
            .all(|r| r["override"] == "substantiated_report")
    );
    assert_eq!(ranking[2]["rank"], 3);
}

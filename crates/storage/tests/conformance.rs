//! The storage conformance suite: what every backend must do, checked the way a user of the
//! store would check it. Each test runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set:
//!
//! ```text
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p minping-storage
//! ```

#[macro_use]
mod support;

use chrono::NaiveDate;
use minping_domain::{
    Channel, IndicatorMask, Method, Nomination, Period, PersonId, PostRole, Receipt, Role, Round,
    RoundId, RoundState, Tally, UnitId, UserId,
    ranking::{rank, tally},
    settings::RoundSettings,
};
use minping_storage::{
    Actor, BallotRejected, BallotWriter, Finalization, FrozenRanking, NewBallot, Storage,
    StorageError, WriteError,
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use std::{collections::BTreeMap, sync::Arc};
use support::*;

fn is_conflict<T: std::fmt::Debug>(r: Result<T, StorageError>) -> bool {
    matches!(r, Err(StorageError::Conflict(_)))
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, StorageError>) -> bool {
    matches!(r, Err(StorageError::NotFound))
}

/// `n` random ballots for a round naming some of `units`, over both channels, with
/// comments now and then; deterministic for a seed.
fn random_ballots(seed: u64, round: RoundId, units: &[UnitId], n: usize) -> Vec<NewBallot> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let channel = if rng.gen_bool(0.4) {
                Channel::Directed
            } else {
                Channel::Open
            };
            let k = rng.gen_range(1..=units.len().min(10));
            let mut named: Vec<UnitId> = units.choose_multiple(&mut rng, k).copied().collect();
            named.sort();
            let nominations = named
                .into_iter()
                .map(|unit_id| Nomination {
                    unit_id,
                    indicators: IndicatorMask(rng.gen_range(1..32)),
                    comment: rng
                        .gen_bool(0.2)
                        .then(|| format!("第{i}张表：窗口让我来回跑了{}次", rng.gen_range(2..6))),
                })
                .collect();
            let exposed = rng.gen_range(0..4);
            let mut exposure: Vec<UnitId> =
                units.choose_multiple(&mut rng, exposed).copied().collect();
            exposure.sort();
            let mut b = ballot(
                round,
                channel,
                nominations,
                Receipt::generate(&mut rng).as_str(),
            );
            b.ballot.exposure = exposure;
            let arrived = day(2024, 5, 1) + chrono::Days::new(rng.gen_range(0..30));
            if b.ballot.channel == Channel::Open {
                b.received_on = Some(arrived);
            }
            b
        })
        .collect()
}

/// The pure tally of ballots, as the ranking method and the open data define it.
fn pure_tally(ballots: &[NewBallot]) -> Vec<Tally> {
    tally(
        ballots
            .iter()
            .flat_map(|b| b.ballot.nominations.iter().map(|n| (b.ballot.channel, n))),
        5,
    )
}

// ---------------------------------------------------------------- agencies and units

conformance!(
    agencies_and_units_are_listed_by_name_with_their_agencys_name,
    |store| async move {
        let minzheng = store
            .create_agency(
                "民政局",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let gongan = store
            .create_agency(
                "公安局",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(minzheng.name, "民政局");
        let mut names: Vec<String> = vec!["民政局".into(), "公安局".into()];
        names.sort();
        let listed: Vec<String> = store
            .agencies()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(listed, names);

        let funeral = store
            .create_unit(
                minzheng.id,
                "殡仪馆",
                "科室",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(funeral.agency_id, minzheng.id);
        assert_eq!(funeral.agency, "民政局");
        assert_eq!(funeral.name, "殡仪馆");
        assert_eq!(funeral.kind, "科室");
        assert!(funeral.active);
        let household = store
            .create_unit(
                gongan.id,
                "户籍科",
                "科室",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let marriage = store
            .create_unit(
                minzheng.id,
                "婚姻登记处",
                "窗口",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();

        let units = store.units().await.unwrap();
        assert_eq!(units.len(), 3);
        assert!(units.contains(&funeral));
        assert!(units.contains(&household));
        assert!(units.contains(&marriage));
        // By agency, then by name.
        let keys: Vec<(String, String)> = units
            .iter()
            .map(|u| (u.agency.clone(), u.name.clone()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
);

conformance!(
    a_second_agency_of_the_same_name_is_a_conflict,
    |store| async move {
        store
            .create_agency(
                "民政局",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert!(is_conflict(
            store
                .create_agency(
                    "民政局",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        assert_eq!(store.agencies().await.unwrap().len(), 1);
    }
);

conformance!(
    a_unit_name_is_unique_within_its_agency_but_another_agency_may_use_it,
    |store| async move {
        let a = store
            .create_agency(
                "民政局",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let b = store
            .create_agency(
                "公安局",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        store
            .create_unit(
                a.id,
                "办公室",
                "科室",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert!(is_conflict(
            store
                .create_unit(
                    a.id,
                    "办公室",
                    "科室",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        let other = store
            .create_unit(
                b.id,
                "办公室",
                "科室",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(other.agency, "公安局");
        assert_eq!(store.units().await.unwrap().len(), 2);
    }
);

conformance!(
    a_unit_of_an_unknown_agency_is_not_found,
    |store| async move {
        assert!(is_not_found(
            store
                .create_unit(
                    minping_domain::AgencyId(999),
                    "殡仪馆",
                    "科室",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        assert!(store.units().await.unwrap().is_empty());
    }
);

conformance!(
    a_retired_unit_stays_listed_as_inactive_and_can_be_brought_back,
    |store| async move {
        let units = units(store.as_ref(), 2).await;
        store
            .set_unit_active(
                units[0].id,
                false,
                day(2024, 6, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let listed = store.units().await.unwrap();
        assert_eq!(listed.len(), 2);
        let retired = listed.iter().find(|u| u.id == units[0].id).unwrap();
        assert!(!retired.active);
        assert_eq!(retired.retired_on, Some(day(2024, 6, 1)));
        assert_eq!(retired.name, units[0].name);
        assert!(listed.iter().find(|u| u.id == units[1].id).unwrap().active);
        // Retiring it again keeps the first day.
        store
            .set_unit_active(
                units[0].id,
                false,
                day(2024, 9, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let again = store.units().await.unwrap();
        assert_eq!(
            again
                .iter()
                .find(|u| u.id == units[0].id)
                .unwrap()
                .retired_on,
            Some(day(2024, 6, 1))
        );

        store
            .set_unit_active(
                units[0].id,
                true,
                day(2024, 10, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let back = store.units().await.unwrap();
        assert!(back.iter().all(|u| u.active && u.retired_on.is_none()));
        assert!(is_not_found(
            store
                .set_unit_active(
                    UnitId(999),
                    false,
                    day(2024, 6, 1),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
    }
);

// ---------------------------------------------------------------- people and posts

conformance!(people_are_listed_by_name, |store| async move {
    let zhang = store
        .create_person(
            "张伟",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let li = store
        .create_person(
            "李娜",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(zhang.name, "张伟");
    let mut expected = vec![zhang, li];
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(store.people().await.unwrap(), expected);
});

conformance!(
    a_new_head_ends_the_previous_heads_post_on_the_day_they_start,
    |store| async move {
        let units = units(store.as_ref(), 2).await;
        let (unit, other_unit) = (units[0].id, units[1].id);
        let zhang = store
            .create_person(
                "张伟",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let li = store
            .create_person(
                "李娜",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let wang = store
            .create_person(
                "王强",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();

        let first = store
            .assign_post(
                zhang.id,
                unit,
                PostRole::Head,
                day(2023, 1, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(first.person, "张伟");
        assert_eq!((first.start, first.end), (day(2023, 1, 1), None));
        let leader = store
            .assign_post(
                wang.id,
                unit,
                PostRole::SupervisingLeader,
                day(2023, 1, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let elsewhere = store
            .assign_post(
                zhang.id,
                other_unit,
                PostRole::Head,
                day(2023, 6, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();

        let second = store
            .assign_post(
                li.id,
                unit,
                PostRole::Head,
                day(2024, 3, 15),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(second.person_id, li.id);
        assert_eq!((second.start, second.end), (day(2024, 3, 15), None));

        let posts = store.posts().await.unwrap();
        assert_eq!(posts.len(), 4);
        let ended = posts.iter().find(|p| p.id == first.id).unwrap();
        assert_eq!(ended.end, Some(day(2024, 3, 15)));
        assert!(ended.held_on(day(2023, 1, 1)));
        assert!(ended.held_on(day(2024, 3, 14)));
        assert!(!ended.held_on(day(2024, 3, 15)));
        assert!(!ended.held_on(day(2022, 12, 31)));
        let current = posts.iter().find(|p| p.id == second.id).unwrap();
        assert!(current.held_on(day(2024, 3, 15)));
        assert!(current.held_on(day(2030, 1, 1)));
        assert!(!current.held_on(day(2024, 3, 14)));
        // Who was head of the unit on a day: exactly one person.
        let head_on = |d| {
            posts
                .iter()
                .filter(|p| p.unit_id == unit && p.role == PostRole::Head && p.held_on(d))
                .map(|p| p.person.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(head_on(day(2024, 3, 14)), ["张伟"]);
        assert_eq!(head_on(day(2024, 3, 15)), ["李娜"]);
        // The other post of the unit and the same person's post elsewhere are untouched.
        assert_eq!(posts.iter().find(|p| p.id == leader.id).unwrap(), &leader);
        assert_eq!(
            posts.iter().find(|p| p.id == elsewhere.id).unwrap(),
            &elsewhere
        );
    }
);

conformance!(
    a_post_starting_before_an_already_recorded_later_holder_is_a_conflict,
    |store| async move {
        let unit = units(store.as_ref(), 1).await[0].id;
        let zhang = store
            .create_person(
                "张伟",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let li = store
            .create_person(
                "李娜",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        store
            .assign_post(
                zhang.id,
                unit,
                PostRole::Head,
                day(2024, 1, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let before = store.posts().await.unwrap();
        assert!(is_conflict(
            store
                .assign_post(
                    li.id,
                    unit,
                    PostRole::Head,
                    day(2023, 6, 1),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        assert!(is_conflict(
            store
                .assign_post(
                    li.id,
                    unit,
                    PostRole::Head,
                    day(2024, 1, 1),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        assert_eq!(store.posts().await.unwrap(), before);
        // The other role of the unit has no holder yet, so an earlier start is fine there.
        store
            .assign_post(
                li.id,
                unit,
                PostRole::SupervisingLeader,
                day(2023, 6, 1),
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
);

conformance!(
    a_post_for_an_unknown_person_is_not_found,
    |store| async move {
        let unit = units(store.as_ref(), 1).await[0].id;
        assert!(is_not_found(
            store
                .assign_post(
                    minping_domain::PersonId(999),
                    unit,
                    PostRole::Head,
                    day(2024, 1, 1),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        assert!(store.posts().await.unwrap().is_empty());
    }
);

// ---------------------------------------------------------------- rounds

conformance!(
    a_new_round_is_a_draft_that_reads_back_with_its_settings,
    |store| async move {
        let settings = RoundSettings {
            top_n: 3,
            max_nominations: 5,
            channel_weights: BTreeMap::from([(Channel::Directed, 1.5), (Channel::Open, 1.0)]),
            ..RoundSettings::default()
        };
        let created = store
            .create_round(
                quarter("2024Q2"),
                &settings,
                &organizer(),
                at(2024, 4, 1, 8, 30, 0),
            )
            .await
            .unwrap();
        assert_eq!(created.state, RoundState::Draft);
        assert_eq!(created.period.to_string(), "2024Q2");
        let read = store.round(created.id).await.unwrap().unwrap();
        assert_eq!(read, created);
        assert_eq!(read.settings, settings);
        assert_eq!(read.created_at, at(2024, 4, 1, 8, 30, 0));

        let older = store
            .create_round(
                quarter("2023Q4"),
                &RoundSettings::default(),
                &Actor::system(),
                at(2023, 10, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        let newer = store
            .create_round(
                quarter("2024Q3"),
                &RoundSettings::default(),
                &Actor::system(),
                at(2024, 7, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        let labels: Vec<String> = store
            .rounds()
            .await
            .unwrap()
            .iter()
            .map(|r| r.period.to_string())
            .collect();
        assert_eq!(labels, ["2024Q3", "2024Q2", "2023Q4"]);
        assert_ne!(older.id, newer.id);
        assert!(store.round(RoundId(9999)).await.unwrap().is_none());
    }
);

conformance!(
    a_second_round_for_the_same_quarter_is_a_conflict,
    |store| async move {
        let settings = RoundSettings::default();
        store
            .create_round(
                quarter("2024Q2"),
                &settings,
                &organizer(),
                at(2024, 4, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        assert!(is_conflict(
            store
                .create_round(
                    quarter("2024Q2"),
                    &settings,
                    &organizer(),
                    at(2024, 4, 2, 8, 0, 0)
                )
                .await
        ));
        assert_eq!(store.rounds().await.unwrap().len(), 1);
    }
);

conformance!(
    a_round_goes_from_draft_to_published_and_every_step_is_recorded_in_order,
    |store| async move {
        let units = units(store.as_ref(), 3).await;
        let settings = RoundSettings::default();
        let round = store
            .create_round(
                quarter("2024Q2"),
                &settings,
                &organizer(),
                at(2024, 4, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        let clerk = Actor {
            user_id: Some(UserId(3)),
            name: "督查室 李明".into(),
        };
        store
            .transition_round(
                round.id,
                RoundState::Draft,
                RoundState::Open,
                &organizer(),
                at(2024, 4, 2, 9, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            store.round(round.id).await.unwrap().unwrap().state,
            RoundState::Open
        );
        store
            .transition_round(
                round.id,
                RoundState::Open,
                RoundState::Closed,
                &clerk,
                at(2024, 6, 30, 17, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            store.round(round.id).await.unwrap().unwrap().state,
            RoundState::Closed
        );

        let method = Method::weighted_nominations(&settings);
        let noms = [
            nom(units[0].id, &[0, 4], None),
            nom(units[1].id, &[1], None),
        ];
        let tallies = tally(noms.iter().map(|n| (Channel::Open, n)), 5);
        let frozen = FrozenRanking {
            ranking: rank(&tallies, &method, &BTreeMap::new()),
            method,
        };
        store
            .finalize_round(
                round.id,
                &finalization(&frozen),
                &organizer(),
                at(2024, 7, 5, 10, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            store.round(round.id).await.unwrap().unwrap().state,
            RoundState::Finalized
        );
        store
            .publish_round(
                round.id,
                day(2024, 7, 10),
                &Actor::system(),
                at(2024, 7, 10, 10, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(
            store.round(round.id).await.unwrap().unwrap().state,
            RoundState::Published
        );
        // The frozen ranking is still there once published.
        assert_eq!(store.frozen_ranking(round.id).await.unwrap(), Some(frozen));

        let steps: Vec<_> = store
            .transitions(round.id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.from, t.to, t.user_id, t.actor, t.at))
            .collect();
        use RoundState::*;
        let o = organizer();
        assert_eq!(
            steps,
            [
                // Creation is recorded too, as draft → draft.
                (
                    Draft,
                    Draft,
                    o.user_id,
                    o.name.clone(),
                    at(2024, 4, 1, 8, 0, 0)
                ),
                (
                    Draft,
                    Open,
                    o.user_id,
                    o.name.clone(),
                    at(2024, 4, 2, 9, 0, 0)
                ),
                (
                    Open,
                    Closed,
                    Some(UserId(3)),
                    "督查室 李明".into(),
                    at(2024, 6, 30, 17, 0, 0)
                ),
                (
                    Closed,
                    Finalized,
                    o.user_id,
                    o.name.clone(),
                    at(2024, 7, 5, 10, 0, 0)
                ),
                (
                    Finalized,
                    Published,
                    None,
                    "system".into(),
                    at(2024, 7, 10, 10, 0, 0)
                ),
            ]
        );
        // Another round's record is its own.
        let other = store
            .create_round(
                quarter("2024Q3"),
                &settings,
                &organizer(),
                at(2024, 7, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(store.transitions(other.id).await.unwrap().len(), 1);
    }
);

conformance!(
    finalizing_freezes_the_ranking_and_its_method_which_read_back_equal,
    |store| async move {
        let units = units(store.as_ref(), 12).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        let settings = RoundSettings {
            top_n: 3,
            channel_weights: BTreeMap::from([(Channel::Directed, 2.0), (Channel::Open, 0.75)]),
            ..RoundSettings::default()
        };
        let round = store
            .create_round(
                quarter("2024Q2"),
                &settings,
                &organizer(),
                at(2024, 4, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        store
            .transition_round(
                round.id,
                RoundState::Draft,
                RoundState::Open,
                &organizer(),
                at(2024, 4, 2, 8, 0, 0),
            )
            .await
            .unwrap();
        let ballots = random_ballots(11, round.id, &ids[..10], 120);
        store.insert_ballots(&ballots).await.unwrap();
        store
            .transition_round(
                round.id,
                RoundState::Open,
                RoundState::Closed,
                &organizer(),
                at(2024, 6, 30, 8, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(store.frozen_ranking(round.id).await.unwrap(), None);

        let method = Method::weighted_nominations(&settings);
        let tallies = store.tallies(round.id, 5).await.unwrap();
        // A substantiated report puts a unit nobody named (the 12th) first.
        let reports = BTreeMap::from([(ids[11], 1), (ids[2], 2)]);
        let ranking = rank(&tallies, &method, &reports);
        assert!(ranking.entries.iter().any(|e| e.r#override.is_some()));
        assert!(ranking.entries.iter().any(|e| e.r#override.is_none()));
        let frozen = FrozenRanking { method, ranking };
        store
            .finalize_round(
                round.id,
                &finalization(&frozen),
                &organizer(),
                at(2024, 7, 5, 10, 0, 0),
            )
            .await
            .unwrap();
        let read = store.frozen_ranking(round.id).await.unwrap().unwrap();
        assert_eq!(read.method, frozen.method);
        assert_eq!(read.ranking, frozen.ranking);
        assert_eq!(read.ranking.top().count(), frozen.ranking.top().count());
        // Finalizing again is refused and the frozen ranking stays as it was.
        let mut other = frozen.clone();
        other.ranking.entries.truncate(1);
        assert!(is_conflict(
            store
                .finalize_round(
                    round.id,
                    &finalization(&other),
                    &organizer(),
                    at(2024, 7, 6, 10, 0, 0)
                )
                .await
        ));
        assert_eq!(store.frozen_ranking(round.id).await.unwrap(), Some(frozen));
    }
);

conformance!(
    a_failed_finalization_leaves_the_round_closed_with_no_ranking,
    |store| async move {
        let units = units(store.as_ref(), 2).await;
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Closed).await;
        let method = Method::weighted_nominations(&round.settings);
        let noms = [nom(units[0].id, &[0], None), nom(UnitId(999), &[1], None)];
        let tallies = tally(noms.iter().map(|n| (Channel::Open, n)), 5);
        let frozen = FrozenRanking {
            ranking: rank(&tallies, &method, &BTreeMap::new()),
            method,
        };
        let before = store.transitions(round.id).await.unwrap();
        // The ranking names a unit that does not exist: nothing of the finalization stays.
        assert!(
            store
                .finalize_round(
                    round.id,
                    &finalization(&frozen),
                    &organizer(),
                    at(2024, 7, 5, 10, 0, 0)
                )
                .await
                .is_err()
        );
        assert_eq!(
            store.round(round.id).await.unwrap().unwrap().state,
            RoundState::Closed
        );
        assert_eq!(store.frozen_ranking(round.id).await.unwrap(), None);
        assert_eq!(store.transitions(round.id).await.unwrap(), before);
    }
);

conformance!(
    a_transition_that_skips_a_state_goes_back_or_starts_from_the_wrong_state_is_a_conflict_and_changes_nothing,
    |store| async move {
        use RoundState::*;
        // One round is open at a time: the closed one first.
        let closed = round_in(store.as_ref(), "2024Q1", Closed).await;
        let open = round_in(store.as_ref(), "2024Q2", Open).await;
        let cases = [
            (open.id, Open, Finalized), // skips closed
            (open.id, Open, Published), // skips two
            (open.id, Open, Draft),     // backwards
            (open.id, Open, Open),      // nowhere
            (open.id, Draft, Open),     // wrong from: it is already open
            (closed.id, Closed, Open),  // reopening
            (closed.id, Open, Closed),  // wrong from: it is already closed
            (closed.id, Draft, Open),
            (closed.id, Finalized, Published), // wrong from; and publishing needs finalizing
            (closed.id, Published, Finalized),
        ];
        for (id, from, to) in cases {
            let before = store.transitions(id).await.unwrap();
            let state = store.round(id).await.unwrap().unwrap().state;
            let r = store
                .transition_round(id, from, to, &organizer(), at(2024, 8, 1, 8, 0, 0))
                .await;
            assert!(is_conflict(r), "{from} → {to} on a {state} round");
            assert_eq!(store.round(id).await.unwrap().unwrap().state, state);
            assert_eq!(store.transitions(id).await.unwrap(), before);
        }
        // Finalizing needs a closed round.
        let method = Method::weighted_nominations(&open.settings);
        let frozen = FrozenRanking {
            ranking: rank(&[], &method, &BTreeMap::new()),
            method,
        };
        assert!(is_conflict(
            store
                .finalize_round(open.id, &finalization(&frozen), &organizer(), at(2024, 8, 1, 8, 0, 0))
                .await
        ));
        assert_eq!(store.round(open.id).await.unwrap().unwrap().state, Open);
        assert_eq!(store.frozen_ranking(open.id).await.unwrap(), None);
        // A round that does not exist is not found.
        assert!(is_not_found(
            store
                .transition_round(RoundId(9999), Draft, Open, &organizer(), at(2024, 8, 1, 8, 0, 0))
                .await
        ));
    }
);

// ---------------------------------------------------------------- ballots

conformance!(
    a_ballot_for_an_open_round_is_stored_and_read_back_exactly_by_its_receipt,
    |store| async move {
        let units = units(store.as_ref(), 4).await;
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let mut directed = ballot(
            round.id,
            Channel::Directed,
            vec![
                nom(
                    units[0].id,
                    &[0, 4],
                    Some("办个低保证明跑了五趟，还要请吃饭。"),
                ),
                nom(units[1].id, &[2], None),
                nom(
                    units[3].id,
                    &[0, 1, 2, 3, 4],
                    Some("It's \"fine\" — 不过态度冷漠 😠"),
                ),
            ],
            "K7Q2-M9XP-4RTB",
        );
        directed.ballot.exposure = vec![units[0].id, units[2].id];
        let open = ballot(
            round.id,
            Channel::Open,
            vec![nom(units[2].id, &[1], Some("拖拉"))],
            "ABCD-EFGH-JKMN",
        );
        let outcomes = store
            .insert_ballots(&[directed.clone(), open.clone()])
            .await
            .unwrap();
        assert_eq!(outcomes, [Ok(()), Ok(())]);

        let read = store
            .ballot_by_receipt("K7Q2-M9XP-4RTB")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.round_id, round.id);
        assert_eq!(read.receipt, "K7Q2-M9XP-4RTB");
        // A directed ballot keeps no date: the spent code records the day.
        assert_eq!(read.received_on, None);
        assert_eq!(read.ballot, as_stored(&directed));
        // The one-time code is spent, never kept with the ballot.
        assert_eq!(read.ballot.code, None);
        let read = store
            .ballot_by_receipt("ABCD-EFGH-JKMN")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.ballot, as_stored(&open));
        assert_eq!(read.received_on, Some(day(2024, 5, 20)));

        assert!(
            store
                .ballot_by_receipt("ZZZZ-ZZZZ-ZZZZ")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 2);
    }
);

conformance!(
    a_ballot_for_a_round_that_is_not_open_is_rejected_and_nothing_of_it_is_stored,
    |store| async move {
        let units = units(store.as_ref(), 2).await;
        // One round is open at a time: the closed one first.
        let closed = round_in(store.as_ref(), "2024Q1", RoundState::Closed).await;
        let open = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let draft = round_in(store.as_ref(), "2024Q3", RoundState::Draft).await;
        let u = units[0].id;
        let batch = [
            ballot(
                closed.id,
                Channel::Open,
                vec![nom(u, &[0], Some("晚了"))],
                "CLSD-0000-0001",
            ),
            ballot(
                open.id,
                Channel::Open,
                vec![nom(u, &[0], Some("按时"))],
                "OPEN-0000-0001",
            ),
            ballot(
                draft.id,
                Channel::Directed,
                vec![nom(u, &[1], None)],
                "DRFT-0000-0001",
            ),
            ballot(
                open.id,
                Channel::Directed,
                vec![nom(u, &[1], None)],
                "OPEN-0000-0002",
            ),
            ballot(
                RoundId(9999),
                Channel::Open,
                vec![nom(u, &[1], None)],
                "NONE-0000-0001",
            ),
            ballot(
                closed.id,
                Channel::Open,
                vec![nom(units[1].id, &[2], None)],
                "CLSD-0000-0002",
            ),
        ];
        let outcomes = store.insert_ballots(&batch).await.unwrap();
        let no = Err(BallotRejected::RoundNotOpen);
        assert_eq!(
            outcomes,
            [no.clone(), Ok(()), no.clone(), Ok(()), no.clone(), no]
        );

        assert_eq!(store.ballot_count(open.id).await.unwrap(), 2);
        for r in [closed.id, draft.id, RoundId(9999)] {
            assert_eq!(store.ballot_count(r).await.unwrap(), 0);
            assert!(store.tallies(r, 5).await.unwrap().is_empty());
            assert!(store.comments(r, u).await.unwrap().is_empty());
        }
        for receipt in [
            "CLSD-0000-0001",
            "DRFT-0000-0001",
            "NONE-0000-0001",
            "CLSD-0000-0002",
        ] {
            assert!(
                store.ballot_by_receipt(receipt).await.unwrap().is_none(),
                "{receipt}"
            );
        }
        assert_eq!(store.comments(open.id, u).await.unwrap(), ["按时"]);
        assert!(
            store
                .ballot_by_receipt("OPEN-0000-0002")
                .await
                .unwrap()
                .is_some()
        );
    }
);

conformance!(
    a_batch_reusing_a_stored_receipt_fails_as_a_whole_and_stores_nothing,
    |store| async move {
        let u = units(store.as_ref(), 1).await[0].id;
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let first = ballot(
            round.id,
            Channel::Open,
            vec![nom(u, &[0], Some("第一张"))],
            "SAME-SAME-SAME",
        );
        store
            .insert_ballots(std::slice::from_ref(&first))
            .await
            .unwrap();
        let batch = [
            ballot(
                round.id,
                Channel::Open,
                vec![nom(u, &[1], None)],
                "FRSH-0000-0001",
            ),
            ballot(
                round.id,
                Channel::Open,
                vec![nom(u, &[2], Some("第二张"))],
                "SAME-SAME-SAME",
            ),
        ];
        assert!(store.insert_ballots(&batch).await.is_err());
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 1);
        assert!(
            store
                .ballot_by_receipt("FRSH-0000-0001")
                .await
                .unwrap()
                .is_none()
        );
        let kept = store
            .ballot_by_receipt("SAME-SAME-SAME")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.ballot, as_stored(&first));
        assert_eq!(store.comments(round.id, u).await.unwrap(), ["第一张"]);
    }
);

conformance!(
    tallies_added_up_in_the_database_equal_the_pure_tally_of_the_same_ballots,
    |store| async move {
        let units = units(store.as_ref(), 15).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        // Another round's ballots, taken while it was open (one round is open at a time),
        // must not leak into this round's tallies.
        let other = round_in(store.as_ref(), "2024Q1", RoundState::Open).await;
        store
            .insert_ballots(&random_ballots(7, other.id, &ids, 30))
            .await
            .unwrap();
        store
            .transition_round(
                other.id,
                RoundState::Open,
                RoundState::Closed,
                &organizer(),
                at(2024, 4, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        // Unit 15 is never named in this round.
        let ballots = random_ballots(2024, round.id, &ids[..14], 400);
        assert!(
            ballots
                .iter()
                .any(|b| b.ballot.channel == Channel::Directed)
        );
        assert!(ballots.iter().any(|b| b.ballot.channel == Channel::Open));
        for chunk in ballots.chunks(97) {
            let outcomes = store.insert_ballots(chunk).await.unwrap();
            assert!(outcomes.iter().all(Result::is_ok));
        }
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 400);
        assert_eq!(store.ballot_count(other.id).await.unwrap(), 30);
        let stored = store.tallies(round.id, 5).await.unwrap();
        let expected = pure_tally(&ballots);
        assert_eq!(stored, expected);
        assert!(stored.iter().all(|t| t.unit_id != ids[14]));
        // And so the ranking computed from either is the same.
        let method = Method::weighted_nominations(&round.settings);
        assert_eq!(
            rank(&stored, &method, &BTreeMap::new()),
            rank(&expected, &method, &BTreeMap::new())
        );
        // Every ballot reads back exactly.
        for b in ballots.iter().step_by(37) {
            let read = store
                .ballot_by_receipt(b.receipt.as_str())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(read.ballot, as_stored(b));
            assert_eq!(read.received_on, b.received_on);
        }
        // Comments, per unit, in text order: arrival order is not kept, so that it cannot
        // be matched against when codes were spent.
        for unit in &ids {
            let mut expected: Vec<String> = ballots
                .iter()
                .flat_map(|b| &b.ballot.nominations)
                .filter(|n| n.unit_id == *unit)
                .filter_map(|n| n.comment.clone())
                .collect();
            expected.sort();
            assert_eq!(store.comments(round.id, *unit).await.unwrap(), expected);
        }
    }
);

conformance!(
    tallies_count_each_indicator_position_and_channel_separately,
    |store| async move {
        let units = units(store.as_ref(), 2).await;
        let (a, b) = (units[0].id, units[1].id);
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let batch = [
            ballot(
                round.id,
                Channel::Open,
                vec![nom(a, &[0, 4], None), nom(b, &[3], None)],
                "R000-0000-0001",
            ),
            ballot(
                round.id,
                Channel::Directed,
                vec![nom(a, &[4], None)],
                "R000-0000-0002",
            ),
            ballot(
                round.id,
                Channel::Directed,
                vec![nom(a, &[1, 2, 3, 4], None)],
                "R000-0000-0003",
            ),
        ];
        store.insert_ballots(&batch).await.unwrap();
        let tallies = store.tallies(round.id, 5).await.unwrap();
        assert_eq!(tallies.len(), 2);
        assert_eq!(tallies[0].unit_id, a);
        assert_eq!(
            tallies[0].nominations,
            BTreeMap::from([(Channel::Directed, 2), (Channel::Open, 1)])
        );
        assert_eq!(tallies[0].indicator_counts, [1, 1, 1, 1, 3]);
        assert_eq!(tallies[1].unit_id, b);
        assert_eq!(tallies[1].nominations, BTreeMap::from([(Channel::Open, 1)]));
        assert_eq!(tallies[1].indicator_counts, [0, 0, 0, 1, 0]);
    }
);

conformance!(
    comments_on_a_unit_are_listed_in_arrival_order_without_blanks,
    |store| async move {
        let units = units(store.as_ref(), 2).await;
        let (a, b) = (units[0].id, units[1].id);
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        store
            .insert_ballots(&[
                ballot(
                    round.id,
                    Channel::Open,
                    vec![nom(a, &[0], Some("态度冷漠")), nom(b, &[1], Some("拖拉"))],
                    "C000-0000-0001",
                ),
                ballot(
                    round.id,
                    Channel::Open,
                    vec![nom(a, &[0], None)],
                    "C000-0000-0002",
                ),
            ])
            .await
            .unwrap();
        store
            .insert_ballots(&[ballot(
                round.id,
                Channel::Directed,
                vec![nom(a, &[4], Some("要红包"))],
                "C000-0000-0003",
            )])
            .await
            .unwrap();
        assert_eq!(
            store.comments(round.id, a).await.unwrap(),
            ["态度冷漠", "要红包"]
        );
        assert_eq!(store.comments(round.id, b).await.unwrap(), ["拖拉"]);
    }
);

conformance!(
    an_open_round_without_ballots_has_no_count_tallies_or_comments,
    |store| async move {
        let u = units(store.as_ref(), 1).await[0].id;
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 0);
        assert!(store.tallies(round.id, 5).await.unwrap().is_empty());
        assert!(store.comments(round.id, u).await.unwrap().is_empty());
        assert_eq!(store.insert_ballots(&[]).await.unwrap(), []);
    }
);

// ---------------------------------------------------------------- the ballot writer

conformance!(
    the_ballot_writer_stores_every_one_of_many_concurrent_ballots,
    |store| async move {
        let units = units(store.as_ref(), 8).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let ballots = random_ballots(5, round.id, &ids, 500);
        let writer = BallotWriter::spawn(Arc::clone(&store));
        let mut tasks = tokio::task::JoinSet::new();
        for b in ballots.clone() {
            let writer = writer.clone();
            tasks.spawn(async move { writer.write(b).await });
        }
        let outcomes = tasks.join_all().await;
        assert_eq!(outcomes.len(), 500);
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 500);
        assert_eq!(
            store.tallies(round.id, 5).await.unwrap(),
            pure_tally(&ballots)
        );
        for b in &ballots {
            let read = store.ballot_by_receipt(b.receipt.as_str()).await.unwrap();
            assert_eq!(read.map(|r| r.ballot), Some(as_stored(b)));
        }
    }
);

conformance!(
    the_ballot_writer_rejects_a_ballot_for_a_round_that_is_not_open_and_stores_the_rest_of_its_batch,
    |store| async move {
        let units = units(store.as_ref(), 5).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        // One round is open at a time: the closed one first.
        let closed = round_in(store.as_ref(), "2024Q1", RoundState::Closed).await;
        let open = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let mut ballots = random_ballots(9, open.id, &ids, 60);
        ballots[17].round_id = closed.id;
        ballots[42].round_id = closed.id;
        let writer = BallotWriter::spawn(Arc::clone(&store));
        // All are queued before the writer runs, so they share its transactions.
        let mut tasks = tokio::task::JoinSet::new();
        for (i, b) in ballots.clone().into_iter().enumerate() {
            let writer = writer.clone();
            tasks.spawn(async move { (i, writer.write(b).await) });
        }
        let mut outcomes = tasks.join_all().await;
        outcomes.sort_by_key(|(i, _)| *i);
        for (i, outcome) in outcomes {
            if i == 17 || i == 42 {
                assert_eq!(outcome, Err(WriteError::Rejected(BallotRejected::RoundNotOpen)), "ballot {i}");
                let receipt = ballots[i].receipt.as_str();
                assert!(store.ballot_by_receipt(receipt).await.unwrap().is_none());
            } else {
                assert_eq!(outcome, Ok(()), "ballot {i}");
            }
        }
        assert_eq!(store.ballot_count(open.id).await.unwrap(), 58);
        assert_eq!(store.ballot_count(closed.id).await.unwrap(), 0);
    }
);

conformance!(
    the_ballot_writer_refuses_only_the_ballot_whose_receipt_is_taken,
    |store| async move {
        let units = units(store.as_ref(), 5).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let mut ballots = random_ballots(13, round.id, &ids, 40);
        let original = ballots[0].clone();
        store
            .insert_ballots(std::slice::from_ref(&original))
            .await
            .unwrap();
        ballots[0] = random_ballots(14, round.id, &ids, 1).remove(0);
        ballots[0].receipt = original.receipt.clone();
        let writer = BallotWriter::spawn(Arc::clone(&store));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, b) in ballots.clone().into_iter().enumerate() {
            let writer = writer.clone();
            tasks.spawn(async move { (i, writer.write(b).await) });
        }
        for (i, outcome) in tasks.join_all().await {
            if i == 0 {
                assert!(
                    matches!(outcome, Err(WriteError::Unavailable(_))),
                    "{outcome:?}"
                );
            } else {
                assert_eq!(outcome, Ok(()), "ballot {i}");
            }
        }
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 40);
        let kept = store
            .ballot_by_receipt(original.receipt.as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.ballot, as_stored(&original));
    }
);

// ---------------------------------------------------------------- users and tokens

conformance!(a_user_is_found_by_name_and_by_id, |store| async move {
    let unit = units(store.as_ref(), 1).await[0].id;
    let organizer = store
        .create_user(
            "wangfang",
            Role::Organizer,
            None,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let unit_user = store
        .create_user(
            "殡仪馆",
            Role::Unit,
            Some(unit),
            "$argon2id$second",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(organizer.name, "wangfang");
    assert_eq!(organizer.role, Role::Organizer);
    assert_eq!(organizer.unit_id, None);
    assert_ne!(organizer.id, unit_user.id);

    assert_eq!(
        store.user_by_name("wangfang").await.unwrap(),
        Some(organizer.clone())
    );
    assert_eq!(store.user(organizer.id).await.unwrap(), Some(organizer));
    let read = store.user_by_name("殡仪馆").await.unwrap().unwrap();
    assert_eq!(read, unit_user);
    assert_eq!(read.unit_id, Some(unit));
    assert_eq!(store.user(unit_user.id).await.unwrap(), Some(unit_user));

    assert_eq!(store.user_by_name("nobody").await.unwrap(), None);
    assert_eq!(store.user_by_name("WANGFANG").await.unwrap(), None);
    assert_eq!(store.user(UserId(9999)).await.unwrap(), None);
});

conformance!(
    a_second_user_of_the_same_name_is_a_conflict,
    |store| async move {
        let first = store
            .create_user(
                "clerk1",
                Role::Clerk,
                None,
                "hash-one",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert!(is_conflict(
            store
                .create_user(
                    "clerk1",
                    Role::Leader,
                    None,
                    "hash-two",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now()
                )
                .await
        ));
        assert_eq!(store.user_by_name("clerk1").await.unwrap(), Some(first));
    }
);

conformance!(
    an_api_token_finds_its_user_and_an_unknown_token_finds_nobody,
    |store| async move {
        let alice = store
            .create_user(
                "alice",
                Role::Organizer,
                None,
                "h1",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let bob = store
            .create_user(
                "bob",
                Role::Clerk,
                None,
                "h2",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let now = at(2024, 5, 1, 9, 0, 0);
        store
            .add_token(
                alice.id,
                "sha256-of-alices-token",
                now + chrono::Duration::days(90),
                &minping_storage::Actor::system(),
                now,
            )
            .await
            .unwrap();
        store
            .add_token(
                alice.id,
                "sha256-of-alices-second",
                now + chrono::Duration::days(90),
                &minping_storage::Actor::system(),
                now,
            )
            .await
            .unwrap();
        store
            .add_token(
                bob.id,
                "sha256-of-bobs-token",
                now + chrono::Duration::days(90),
                &minping_storage::Actor::system(),
                now,
            )
            .await
            .unwrap();

        assert_eq!(
            store
                .user_by_token("sha256-of-alices-token", now)
                .await
                .unwrap(),
            Some(alice.clone())
        );
        assert_eq!(
            store
                .user_by_token("sha256-of-alices-second", now)
                .await
                .unwrap(),
            Some(alice)
        );
        assert_eq!(
            store
                .user_by_token("sha256-of-bobs-token", now)
                .await
                .unwrap(),
            Some(bob.clone())
        );
        assert_eq!(
            store.user_by_token("sha256-of-nothing", now).await.unwrap(),
            None
        );
        assert_eq!(store.user_by_token("", now).await.unwrap(), None);
        // A token past its expiry signs in as no one; revoking the user's tokens ends them.
        let later = now + chrono::Duration::days(90);
        assert_eq!(
            store
                .user_by_token("sha256-of-bobs-token", later)
                .await
                .unwrap(),
            None
        );
        let listed = store.tokens(Some(bob.id)).await.unwrap();
        assert_eq!(
            (listed.len(), listed[0].expires_at - listed[0].created_at),
            (1, chrono::Duration::days(90))
        );
        assert!(!listed[0].id.is_empty() && "sha256-of-bobs-token".starts_with(&listed[0].id));
        assert_eq!(
            store
                .revoke_tokens(bob.id, None, &minping_storage::Actor::system(), now)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .user_by_token("sha256-of-bobs-token", now)
                .await
                .unwrap(),
            None
        );
        // A token hash names one user only.
        assert!(is_conflict(
            store
                .add_token(
                    bob.id,
                    "sha256-of-alices-token",
                    now + chrono::Duration::days(90),
                    &minping_storage::Actor::system(),
                    now
                )
                .await
        ));
        assert_eq!(
            store
                .user_by_token("sha256-of-alices-token", now)
                .await
                .unwrap()
                .map(|u| u.name),
            Some("alice".into())
        );
        // A token for a user that does not exist is refused.
        assert!(
            store
                .add_token(
                    UserId(9999),
                    "sha256-of-orphan",
                    now + chrono::Duration::days(90),
                    &minping_storage::Actor::system(),
                    now
                )
                .await
                .is_err()
        );
        assert_eq!(
            store.user_by_token("sha256-of-orphan", now).await.unwrap(),
            None
        );
    }
);

// ---------------------------------------------------------------- sessions

conformance!(
    a_session_is_saved_loaded_overwritten_and_deleted,
    |store| async move {
        let now = at(2024, 5, 1, 9, 0, 0);
        let later = at(2024, 5, 2, 9, 0, 0);
        assert_eq!(store.load_session("s1", now).await.unwrap(), None);
        store
            .save_session("s1", r#"{"user":1,"lang":"zh"}"#, later)
            .await
            .unwrap();
        store.save_session("s2", "other", later).await.unwrap();
        assert_eq!(
            store.load_session("s1", now).await.unwrap().as_deref(),
            Some(r#"{"user":1,"lang":"zh"}"#)
        );
        store.save_session("s1", "换了语言", later).await.unwrap();
        assert_eq!(
            store.load_session("s1", now).await.unwrap().as_deref(),
            Some("换了语言")
        );
        store.delete_session("s1").await.unwrap();
        assert_eq!(store.load_session("s1", now).await.unwrap(), None);
        assert_eq!(
            store.load_session("s2", now).await.unwrap().as_deref(),
            Some("other")
        );
        // Deleting what is not there is fine.
        store.delete_session("s1").await.unwrap();
    }
);

conformance!(an_expired_session_is_not_loaded, |store| async move {
    let expires = at(2024, 5, 1, 12, 0, 0);
    store.save_session("s", "data", expires).await.unwrap();
    let ms = chrono::Duration::milliseconds;
    assert_eq!(
        store
            .load_session("s", expires - ms(1))
            .await
            .unwrap()
            .as_deref(),
        Some("data")
    );
    assert_eq!(
        store
            .load_session("s", at(2024, 4, 30, 12, 0, 0))
            .await
            .unwrap()
            .as_deref(),
        Some("data")
    );
    assert_eq!(store.load_session("s", expires).await.unwrap(), None);
    assert_eq!(
        store.load_session("s", expires + ms(1)).await.unwrap(),
        None
    );
    assert_eq!(
        store.load_session("s", expires + ms(500)).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .load_session("s", at(2025, 1, 1, 0, 0, 0))
            .await
            .unwrap(),
        None
    );
    // Saving it again with a later expiry brings it back.
    store
        .save_session("s", "renewed", expires + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .load_session("s", expires + ms(1))
            .await
            .unwrap()
            .as_deref(),
        Some("renewed")
    );
    // Expiry with sub-second precision still compares as time.
    let precise = expires + ms(250);
    store.save_session("p", "precise", precise).await.unwrap();
    assert_eq!(
        store.load_session("p", expires).await.unwrap().as_deref(),
        Some("precise")
    );
    assert_eq!(
        store
            .load_session("p", expires + ms(249))
            .await
            .unwrap()
            .as_deref(),
        Some("precise")
    );
    assert_eq!(
        store.load_session("p", expires + ms(250)).await.unwrap(),
        None
    );
    assert_eq!(
        store.load_session("p", expires + ms(251)).await.unwrap(),
        None
    );
});

// ---------------------------------------------------------------- concurrency

conformance!(
    ballots_are_stored_while_sessions_and_other_records_are_written_at_the_same_time,
    |store| async move {
        let units = units(store.as_ref(), 6).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let ballots = random_ballots(21, round.id, &ids, 300);
        // Sign-ins and page views write sessions all the time, next to the ballot intake.
        let others = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let expires = at(2030, 1, 1, 0, 0, 0);
                for i in 0..300 {
                    store
                        .save_session(&format!("s{}", i % 20), "data", expires)
                        .await?;
                    if i % 10 == 0 {
                        store
                            .create_person(
                                &format!("张{i}"),
                                &minping_storage::Actor::system(),
                                chrono::Utc::now(),
                            )
                            .await?;
                    }
                }
                Ok::<_, StorageError>(())
            })
        };
        let mut batches = tokio::task::JoinSet::new();
        for chunk in ballots.chunks(10) {
            let (store, chunk) = (Arc::clone(&store), chunk.to_vec());
            batches.spawn(async move { store.insert_ballots(&chunk).await });
        }
        for outcome in batches.join_all().await {
            let outcome = outcome.expect("a batch is stored despite other writers");
            assert!(outcome.iter().all(Result::is_ok));
        }
        others.await.unwrap().expect("the other writes succeed too");
        assert_eq!(store.ballot_count(round.id).await.unwrap(), 300);
        assert_eq!(
            store.tallies(round.id, 5).await.unwrap(),
            pure_tally(&ballots)
        );
    }
);

conformance!(
    no_ballot_is_stored_after_its_round_is_closed_even_one_already_queued,
    |store| async move {
        let units = units(store.as_ref(), 6).await;
        let ids: Vec<UnitId> = units.iter().map(|u| u.id).collect();
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Open).await;
        let writer = BallotWriter::spawn(Arc::clone(&store));
        // Respondents keep sending ballots until they are told the round is closed.
        let mut senders = tokio::task::JoinSet::new();
        for s in 0..16u64 {
            let (writer, ids) = (writer.clone(), ids.clone());
            senders.spawn(async move {
                let mut stored = 0u64;
                for (i, b) in random_ballots(100 + s, round.id, &ids, 1_000)
                    .into_iter()
                    .enumerate()
                {
                    match writer.write(b).await {
                        Ok(()) => stored += 1,
                        Err(WriteError::Rejected(BallotRejected::RoundNotOpen)) => {
                            return (stored, i);
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                panic!("the round never closed");
            });
        }
        // Close while ballots are flowing.
        while store.ballot_count(round.id).await.unwrap() < 300 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        store
            .transition_round(
                round.id,
                RoundState::Open,
                RoundState::Closed,
                &organizer(),
                at(2024, 6, 30, 17, 0, 0),
            )
            .await
            .unwrap();
        let at_close = store.ballot_count(round.id).await.unwrap();
        let answered: u64 = senders
            .join_all()
            .await
            .iter()
            .map(|(stored, _)| stored)
            .sum();
        let after = store.ballot_count(round.id).await.unwrap();
        assert!(at_close > 0, "no ballot got in before the close");
        assert_eq!(
            after, at_close,
            "ballots were stored after the round closed"
        );
        assert_eq!(answered, after, "every ballot answered as stored is stored");
    }
);

conformance!(
    a_round_created_with_the_current_time_reads_back_equal_to_what_create_returned,
    |store| async move {
        let created = store
            .create_round(
                quarter("2024Q2"),
                &RoundSettings::default(),
                &organizer(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        assert_eq!(store.round(created.id).await.unwrap(), Some(created));
    }
);

/// A closed round whose finalization proposes an interview, a promotion freeze and the
/// removal of the head 张伟 (head of the unit since 2020); returns (round, unit, head).
async fn finalized_with_a_removal(store: &dyn Storage) -> (Round, UnitId, PersonId) {
    use minping_domain::rules::{ProposedSanction, SanctionKind, freeze_until};
    let unit = units(store, 1).await[0].id;
    let head = store
        .create_person(
            "张伟",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    store
        .assign_post(
            head.id,
            unit,
            PostRole::Head,
            day(2020, 1, 1),
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let round = round_in(store, "2024Q2", RoundState::Closed).await;
    let proposal = |kind: SanctionKind, until| ProposedSanction {
        person_id: head.id,
        unit_id: unit,
        kind,
        rule: format!("rule_{}", kind.as_str()),
        rounds: vec![round.period],
        from: day(2024, 7, 10),
        until,
        points: None,
        reason_zh: "科室列2024年第二季度群众评议最难办事科室第1名".into(),
    };
    let method = Method::weighted_nominations(&round.settings);
    let finalization = Finalization {
        frozen: FrozenRanking {
            ranking: rank(&[], &method, &BTreeMap::new()),
            method,
        },
        rules: "{\"version\":1}".into(),
        proposals: vec![
            proposal(SanctionKind::Interview, None),
            proposal(
                SanctionKind::PromotionFreeze,
                Some(freeze_until(day(2024, 7, 10), 3)),
            ),
            proposal(SanctionKind::HeadRemoved, None),
        ],
        counted_reports: Vec::new(),
    };
    store
        .finalize_round(
            round.id,
            &finalization,
            &organizer(),
            at(2024, 7, 10, 9, 0, 0),
        )
        .await
        .unwrap();
    (round, unit, head.id)
}

/// The head post of `unit` held by `person`: (start, end).
async fn head_post(
    store: &dyn Storage,
    unit: UnitId,
    person: PersonId,
) -> (NaiveDate, Option<NaiveDate>) {
    let post = store
        .posts()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.unit_id == unit && p.person_id == person && p.role == PostRole::Head)
        .expect("the post");
    (post.start, post.end)
}

conformance!(
    finalizing_stores_the_rules_and_the_proposals_with_the_ranking_in_one_step,
    |store| async move {
        let (round, _, head) = finalized_with_a_removal(store.as_ref()).await;
        assert_eq!(
            store.round_rules(round.id).await.unwrap().as_deref(),
            Some("{\"version\":1}")
        );
        let proposed = store.sanctions(round.id).await.unwrap();
        assert_eq!(proposed.len(), 3);
        assert!(proposed.iter().all(|s| s.proposal.person_id == head));
        assert!(store.frozen_ranking(round.id).await.unwrap().is_some());
        // A round finalized before the rules were stored has none.
        let other = round_in(store.as_ref(), "2024Q1", RoundState::Closed).await;
        assert_eq!(store.round_rules(other.id).await.unwrap(), None);
    }
);

conformance!(
    publishing_moves_a_rounds_sanctions_to_the_publication_day_keeps_decisions_and_ends_a_confirmed_removals_post,
    |store| async move {
        use minping_domain::rules::SanctionState;
        let (round, unit, head) = finalized_with_a_removal(store.as_ref()).await;
        let ids: Vec<i64> = store
            .sanctions(round.id)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        // The interview and the removal are confirmed before publication: the post is not
        // ended yet, the removal takes effect when the results do.
        for &id in &[ids[0], ids[2]] {
            store
                .decide_sanction(id, true, &organizer(), "区委常委会研究决定", None, at(2024, 7, 12, 9, 0, 0), day(2024, 7, 12))
                .await
                .unwrap();
        }
        assert_eq!(head_post(store.as_ref(), unit, head).await.1, None);

        store
            .publish_round(round.id, day(2024, 7, 20), &organizer(), at(2024, 7, 20, 9, 0, 0))
            .await
            .unwrap();
        assert_eq!(
            store.round(round.id).await.unwrap().unwrap().state,
            RoundState::Published
        );
        let after = store.sanctions(round.id).await.unwrap();
        assert_eq!(after.len(), 3);
        assert!(after.iter().all(|s| s.proposal.from == day(2024, 7, 20)));
        assert_eq!(after[0].state, SanctionState::Confirmed);
        assert_eq!(after[0].decided_by.as_deref(), Some("作风办 王芳"));
        assert_eq!(after[1].state, SanctionState::Proposed);
        assert_eq!(after[1].proposal.until, Some(day(2024, 10, 19)));
        assert_eq!(store.all_sanctions().await.unwrap(), after);
        assert_eq!(store.sanctions_of(head).await.unwrap(), after);
        assert_eq!(
            head_post(store.as_ref(), unit, head).await,
            (day(2020, 1, 1), Some(day(2024, 7, 20))),
            "the removed head leaves the post on the publication day"
        );
        // Publishing is once.
        assert!(is_conflict(
            store
                .publish_round(round.id, day(2024, 7, 21), &organizer(), at(2024, 7, 21, 9, 0, 0))
                .await
        ));
    }
);

conformance!(
    a_removal_confirmed_after_publication_ends_the_post_on_the_day_it_is_decided,
    |store| async move {
        let (round, unit, head) = finalized_with_a_removal(store.as_ref()).await;
        store
            .publish_round(
                round.id,
                day(2024, 7, 20),
                &organizer(),
                at(2024, 7, 20, 9, 0, 0),
            )
            .await
            .unwrap();
        assert_eq!(head_post(store.as_ref(), unit, head).await.1, None);
        let removal = store.sanctions(round.id).await.unwrap()[2].id;
        store
            .decide_sanction(
                removal,
                true,
                &organizer(),
                "区委常委会研究决定",
                None,
                at(2024, 8, 2, 9, 0, 0),
                day(2024, 8, 2),
            )
            .await
            .unwrap();
        assert_eq!(
            head_post(store.as_ref(), unit, head).await.1,
            Some(day(2024, 8, 2))
        );
        // A rejected removal ends nothing; a decision is taken once.
        assert!(is_conflict(
            store
                .decide_sanction(
                    removal,
                    false,
                    &organizer(),
                    "改判",
                    None,
                    at(2024, 8, 3, 9, 0, 0),
                    day(2024, 8, 3)
                )
                .await
        ));
    }
);

conformance!(
    a_removal_confirmed_while_its_round_is_published_ends_the_post_either_way,
    |store| async move {
        use minping_domain::rules::{ProposedSanction, SanctionKind};
        // The decision and the publication race, again and again: whichever commits first,
        // the confirmed removal ends the post.
        for i in 0..16 {
            let agency = store
                .create_agency(
                    &format!("机构{i}"),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
            let unit = store
                .create_unit(
                    agency.id,
                    "科室",
                    "科室",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await
                .unwrap()
                .id;
            let head = store
                .create_person(
                    &format!("负责人{i}"),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await
                .unwrap()
                .id;
            store
                .assign_post(
                    head,
                    unit,
                    PostRole::Head,
                    day(2000, 1, 1),
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
            let round = round_in(
                store.as_ref(),
                &format!("{}Q2", 2001 + i),
                RoundState::Closed,
            )
            .await;
            let method = Method::weighted_nominations(&round.settings);
            let finalization = Finalization {
                frozen: FrozenRanking {
                    ranking: rank(&[], &method, &BTreeMap::new()),
                    method,
                },
                rules: "{\"version\":1}".into(),
                proposals: vec![ProposedSanction {
                    person_id: head,
                    unit_id: unit,
                    kind: SanctionKind::HeadRemoved,
                    rule: "rule_head_removed".into(),
                    rounds: vec![round.period],
                    from: day(2024, 7, 10),
                    until: None,
                    points: None,
                    reason_zh: "连续2次列入前3名".into(),
                }],
                counted_reports: Vec::new(),
            };
            store
                .finalize_round(
                    round.id,
                    &finalization,
                    &organizer(),
                    at(2024, 7, 10, 9, 0, 0),
                )
                .await
                .unwrap();
            let removal = store.sanctions(round.id).await.unwrap()[0].id;
            let organizer = organizer();
            let (published, decided) = tokio::join!(
                store.publish_round(
                    round.id,
                    day(2024, 7, 20),
                    &organizer,
                    at(2024, 7, 20, 9, 0, 0)
                ),
                store.decide_sanction(
                    removal,
                    true,
                    &organizer,
                    "区委常委会研究决定",
                    None,
                    at(2024, 7, 20, 9, 0, 0),
                    day(2024, 7, 20)
                ),
            );
            published.unwrap();
            decided.unwrap();
            assert_eq!(
                head_post(store.as_ref(), unit, head).await.1,
                Some(day(2024, 7, 20)),
                "race {i}"
            );
        }
    }
);

conformance!(
    round_periods_never_overlap_and_at_most_one_round_is_open,
    |store| async move {
        let period = |s: &str| s.parse::<Period>().unwrap();
        let create = |p: Period| {
            let store = store.clone();
            async move {
                store
                    .create_round(
                        p,
                        &RoundSettings::default(),
                        &organizer(),
                        at(2024, 1, 1, 8, 0, 0),
                    )
                    .await
            }
        };
        let h1 = create(period("2024H1")).await.unwrap();
        assert_eq!(
            (h1.period.start(), h1.period.end()),
            (day(2024, 1, 1), day(2024, 6, 30))
        );
        for overlapping in [
            "2024Q2",
            "2024-06-30..2024-07-15",
            "2024",
            "2023-12-01..2024-01-01",
        ] {
            assert!(
                is_conflict(create(period(overlapping)).await),
                "{overlapping} overlaps 2024H1"
            );
        }
        // Skipping a quarter is allowed; an adjacent period is not an overlap.
        let q4 = create(period("2024Q4")).await.unwrap();
        let q3 = create(period("2024-07-01..2024-09-30")).await.unwrap();
        assert_eq!(q3.period.to_string(), "2024Q3");
        let listed: Vec<String> = store
            .rounds()
            .await
            .unwrap()
            .iter()
            .map(|r| r.period.to_string())
            .collect();
        assert_eq!(listed, ["2024Q4", "2024Q3", "2024H1"]);

        store
            .transition_round(
                h1.id,
                RoundState::Draft,
                RoundState::Open,
                &organizer(),
                at(2024, 1, 1, 9, 0, 0),
            )
            .await
            .unwrap();
        let second = store
            .transition_round(
                q3.id,
                RoundState::Draft,
                RoundState::Open,
                &organizer(),
                at(2024, 7, 1, 9, 0, 0),
            )
            .await;
        assert!(is_conflict(second), "the database keeps one round open");
        assert_eq!(
            store.round(q3.id).await.unwrap().unwrap().state,
            RoundState::Draft
        );
        store
            .transition_round(
                h1.id,
                RoundState::Open,
                RoundState::Closed,
                &organizer(),
                at(2024, 7, 1, 8, 0, 0),
            )
            .await
            .unwrap();
        store
            .transition_round(
                q3.id,
                RoundState::Draft,
                RoundState::Open,
                &organizer(),
                at(2024, 7, 1, 9, 0, 0),
            )
            .await
            .unwrap();
        // Finalizing and publishing have workflows of their own.
        assert!(is_conflict(
            store
                .transition_round(
                    h1.id,
                    RoundState::Closed,
                    RoundState::Finalized,
                    &organizer(),
                    at(2024, 7, 5, 9, 0, 0)
                )
                .await
        ));
        assert_ne!(q4.id, q3.id);
    }
);

conformance!(
    finalizing_records_the_reports_a_round_counted_so_no_other_round_counts_them,
    |store| async move {
        use minping_domain::report::{NewReport, ReportSource, ReportState};
        let unit = units(store.as_ref(), 1).await[0].id;
        let report = NewReport {
            unit_id: unit,
            description: "经办人员收受购物卡后才予受理。".into(),
            staff: None,
            contact: None,
            occurred_on: None,
        };
        let mut ids = Vec::new();
        for (i, concluded) in [day(2024, 6, 10), day(2024, 7, 20)].into_iter().enumerate() {
            let id = store
                .create_report(
                    &report,
                    &[],
                    ReportSource::Letter,
                    &format!("digest-{i}"),
                    day(2024, 6, 1),
                    None,
                    at(2024, 6, 1, 9, 0, 0),
                )
                .await
                .unwrap();
            store
                .transition_report(
                    id,
                    ReportState::Received,
                    ReportState::Investigating,
                    &organizer(),
                    "受理",
                    None,
                    at(2024, 6, 2, 9, 0, 0),
                    day(2024, 6, 2),
                )
                .await
                .unwrap();
            store
                .transition_report(
                    id,
                    ReportState::Investigating,
                    ReportState::Substantiated,
                    &organizer(),
                    "属实",
                    Some("记过"),
                    at(2024, 6, 9, 9, 0, 0),
                    concluded,
                )
                .await
                .unwrap();
            ids.push(id);
        }
        let through = |d| store.uncounted_substantiated(d);
        assert_eq!(
            through(day(2024, 6, 30))
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            [ids[0]]
        );
        let round = round_in(store.as_ref(), "2024Q2", RoundState::Closed).await;
        let method = Method::weighted_nominations(&round.settings);
        let counting = |reports: Vec<i64>| Finalization {
            frozen: FrozenRanking {
                ranking: rank(&[], &method, &BTreeMap::new()),
                method: method.clone(),
            },
            rules: "{}".into(),
            proposals: Vec::new(),
            counted_reports: reports,
        };
        store
            .finalize_round(
                round.id,
                &counting(vec![ids[0]]),
                &organizer(),
                at(2024, 7, 5, 9, 0, 0),
            )
            .await
            .unwrap();
        let counted = store.report(ids[0]).await.unwrap().unwrap();
        assert_eq!(counted.counted_in, Some(round.id));
        assert_eq!(
            through(day(2024, 12, 31))
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            [ids[1]]
        );
        // A finalization counting a report counted meanwhile stores nothing.
        let other = round_in(store.as_ref(), "2024Q3", RoundState::Closed).await;
        assert!(is_conflict(
            store
                .finalize_round(
                    other.id,
                    &counting(vec![ids[1], ids[0]]),
                    &organizer(),
                    at(2024, 10, 5, 9, 0, 0)
                )
                .await
        ));
        assert_eq!(
            store.round(other.id).await.unwrap().unwrap().state,
            RoundState::Closed
        );
        assert_eq!(
            store.report(ids[1]).await.unwrap().unwrap().counted_in,
            None
        );
    }
);

conformance!(
    a_promotion_check_is_recorded_with_its_answer,
    |store| async move {
        use minping_domain::rules::{PromotionAnswer, Reason};
        let person = store
            .create_person(
                "刘高勇",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let answer = PromotionAnswer {
            eligible: false,
            reasons: vec![Reason {
                round: "2024Q2".parse().unwrap(),
                rule: "top_n_promotion_freeze".into(),
                until: Some(day(2024, 10, 19)),
                reason_zh: "科室列第3名，自公示之日起3个月内不得提拔".into(),
            }],
        };
        let id = store
            .record_promotion_check(
                person.id,
                day(2024, 8, 1),
                &answer,
                "拟提拔为副局长",
                &organizer(),
                at(2024, 7, 30, 9, 0, 0),
            )
            .await
            .unwrap();
        let checks = store.promotion_checks().await.unwrap();
        assert_eq!(checks.len(), 1);
        let c = &checks[0];
        assert_eq!((c.id, c.person_id, c.on), (id, person.id, day(2024, 8, 1)));
        assert_eq!(c.answer, answer);
        assert_eq!(
            (c.note.as_str(), c.checked_by.as_str()),
            ("拟提拔为副局长", "作风办 王芳")
        );
        assert_eq!(c.checked_at, at(2024, 7, 30, 9, 0, 0));
        assert!(is_not_found(
            store
                .record_promotion_check(
                    PersonId(9999),
                    day(2024, 8, 1),
                    &answer,
                    "x",
                    &organizer(),
                    at(2024, 7, 30, 9, 0, 0)
                )
                .await
        ));
    }
);

// ---------------------------------------------------------------- report evidence

conformance!(
    a_reports_evidence_files_read_back_byte_for_byte_and_the_list_carries_no_content,
    |store| async move {
        use minping_domain::report::{NewEvidence, NewReport, ReportSource};
        use sha2::{Digest, Sha256};
        let unit = units(store.as_ref(), 1).await[0].id;
        let report = NewReport {
            unit_id: unit,
            description: "窗口工作人员收了购物卡才受理，附照片和收据。".into(),
            staff: None,
            contact: None,
            occurred_on: None,
        };
        // Every byte value, so no encoding on the way can go unnoticed.
        let mut photo = b"\x89PNG\r\n\x1a\n".to_vec();
        photo.extend((0..=255u8).cycle().take(70_000));
        let receipt = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n".to_vec();
        let files = [
            NewEvidence::parse("现场照片.png", photo.clone()).unwrap(),
            NewEvidence::parse("收据.pdf", receipt.clone()).unwrap(),
        ];
        let id = store
            .create_report(
                &report,
                &files,
                ReportSource::Web,
                "digest-1",
                day(2024, 5, 6),
                None,
                at(2024, 5, 6, 9, 0, 0),
            )
            .await
            .unwrap();

        let listed = store.evidence(id).await.unwrap();
        let seen: Vec<_> = listed
            .iter()
            .map(|e| {
                (
                    e.report_id,
                    e.file_name.as_str(),
                    e.content_type.as_str(),
                    e.size,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (id, "现场照片.png", "image/png", photo.len() as i64),
                (id, "收据.pdf", "application/pdf", receipt.len() as i64),
            ]
        );
        for (meta, bytes) in listed.iter().zip([&photo, &receipt]) {
            assert_eq!(meta.sha256, hex::encode(Sha256::digest(bytes)));
            let (again, content) = store.evidence_file(id, meta.id).await.unwrap().unwrap();
            assert_eq!(&again, meta, "the download's metadata is the list's");
            // The content is the caller's to keep, as a file named by its hash: the
            // database keeps what it is, never the bytes.
            assert!(again.in_file && content.is_empty());
        }
        // A file is found only under its own report.
        let other = store
            .create_report(
                &report,
                &[],
                ReportSource::Hotline,
                "digest-2",
                day(2024, 5, 6),
                None,
                at(2024, 5, 6, 9, 0, 0),
            )
            .await
            .unwrap();
        assert!(store.evidence(other).await.unwrap().is_empty());
        assert_eq!(
            store.evidence_file(other, listed[0].id).await.unwrap(),
            None
        );
    }
);

conformance!(
    a_refused_report_leaves_no_evidence_behind,
    |store| async move {
        use minping_domain::report::{NewEvidence, NewReport, ReportSource};
        let report = NewReport {
            unit_id: UnitId(4242),
            description: "没有这个科室，举报和附件都不应留下。".into(),
            staff: None,
            contact: None,
            occurred_on: None,
        };
        let file = NewEvidence::parse("a.png", b"\x89PNG\r\n\x1a\n".to_vec()).unwrap();
        let stored = store
            .create_report(
                &report,
                &[file],
                ReportSource::Web,
                "digest",
                day(2024, 5, 6),
                None,
                at(2024, 5, 6, 9, 0, 0),
            )
            .await;
        assert!(is_not_found(stored));
        assert!(store.reports(None).await.unwrap().is_empty());
        assert!(store.evidence(1).await.unwrap().is_empty());
    }
);

//! Runs each conformance test on every backend, and the small fixtures the tests share.
//!
//! SQLite always runs, on a fresh file in a temporary folder. PostgreSQL runs when
//! `TEST_DATABASE_URL` names a server; each test then gets a schema of its own
//! (`t_<random hex>`), dropped afterwards whether the test passed or not.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use minping_domain::{
    Ballot, Channel, IndicatorMask, Nomination, Period, Receipt, Round, RoundId, RoundState, Unit,
    UnitId, UserId, settings::RoundSettings,
};
use minping_storage::{
    Actor, Backend, Finalization, FrozenRanking, NewBallot, PgStore, SqliteStore, Storage,
};
use std::{future::Future, io::Write, sync::Arc, sync::Once};

/// Declares a test that runs once per backend: `mod $name { fn sqlite(); fn postgres(); }`,
/// so a failure names the backend it failed on.
macro_rules! conformance {
    ($(#[$meta:meta])* $name:ident, |$store:ident| $body:expr) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                crate::support::on_sqlite(|$store| $body).await;
            }

            #[tokio::test]
            async fn postgres() {
                crate::support::on_postgres(|$store| $body).await;
            }
        }
    };
}

/// Runs a test on a fresh SQLite file.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Storage>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("minping.db"))
        .await
        .expect("the SQLite store opens and migrates");
    assert_eq!(store.backend(), Backend::Sqlite);
    test(Arc::new(store)).await;
}

/// Runs a test in a fresh PostgreSQL schema, or says PostgreSQL was skipped.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Storage>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        static SKIPPED: Once = Once::new();
        // Written past the test harness's capture so it shows in a normal run.
        SKIPPED.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "PostgreSQL skipped: set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run the conformance tests on it too"
            );
        });
        return;
    };
    let schema = format!("t_{:016x}", rand::random::<u64>());
    let store = PgStore::connect(&url, Some(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} (schema {schema}): {e}"));
    assert_eq!(store.backend(), Backend::Postgres);
    // Run the test as a task of its own so a failure still reaches the schema cleanup.
    let outcome = tokio::spawn(test(Arc::new(store))).await;
    let dropped = PgStore::drop_schema(&url, &schema).await;
    match outcome {
        Ok(()) => dropped.unwrap_or_else(|e| panic!("dropping schema {schema}: {e}")),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the test task did not finish: {e}"),
    }
}

/// A day.
pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real day")
}

/// A whole-second instant (PostgreSQL keeps microseconds, so whole seconds compare exactly).
pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("a real instant")
}

/// A quarter label.
pub fn quarter(s: &str) -> Period {
    s.parse().expect("a quarter label")
}

/// An organizer acting through their account.
pub fn organizer() -> Actor {
    Actor {
        user_id: Some(UserId(7)),
        name: "作风办 王芳".into(),
    }
}

/// An agency with `n` units named 科室1…科室n.
pub async fn units(store: &dyn Storage, n: usize) -> Vec<Unit> {
    let agency = store
        .create_agency(
            "南川区民政局",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .expect("agency");
    let mut units = Vec::with_capacity(n);
    for i in 1..=n {
        let unit = store
            .create_unit(
                agency.id,
                &format!("科室{i:02}"),
                "科室",
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .expect("unit");
        units.push(unit);
    }
    units
}

/// A round for the quarter, created and moved to `state` (not past closed).
pub async fn round_in(store: &dyn Storage, label: &str, state: RoundState) -> Round {
    let round = store
        .create_round(
            quarter(label),
            &RoundSettings::default(),
            &organizer(),
            at(2024, 4, 1, 8, 0, 0),
        )
        .await
        .expect("round");
    let mut now = round.state;
    while now != state {
        let next = now.next().expect("a later state");
        store
            .transition_round(round.id, now, next, &organizer(), at(2024, 4, 1, 9, 0, 0))
            .await
            .expect("transition");
        now = next;
    }
    store.round(round.id).await.expect("read").expect("round")
}

/// A finalization that freezes `frozen` and records nothing else.
pub fn finalization(frozen: &FrozenRanking) -> Finalization {
    Finalization {
        frozen: frozen.clone(),
        rules: "{}".into(),
        proposals: Vec::new(),
        counted_reports: Vec::new(),
    }
}

/// A nomination of a unit ticking the indicators at the given positions.
pub fn nom(unit: UnitId, indicators: &[usize], comment: Option<&str>) -> Nomination {
    Nomination {
        unit_id: unit,
        indicators: indicators
            .iter()
            .fold(IndicatorMask::default(), |m, i| m.with(*i)),
        comment: comment.map(String::from),
    }
}

/// A ballot ready to store.
pub fn ballot(
    round: RoundId,
    channel: Channel,
    nominations: Vec<Nomination>,
    receipt: &str,
) -> NewBallot {
    NewBallot::new(
        round,
        Ballot {
            channel,
            code: (channel == Channel::Directed).then(|| "CODE-0001".to_string()),
            nominations,
            exposure: vec![],
        },
        Receipt::from_stored(receipt.to_string()),
        day(2024, 5, 20),
        None,
    )
}

/// What reading a stored ballot back should give: the same ballot without its one-time code.
pub fn as_stored(b: &NewBallot) -> Ballot {
    Ballot {
        code: None,
        ..b.ballot.clone()
    }
}

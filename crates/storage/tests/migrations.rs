//! Upgrading a SQLite file written before nominations were kept by unit (migration 0006)
//! keeps every ballot: its receipt still finds it whole, and the tallies and comments are
//! what they were. PostgreSQL's schema did not change with that migration.

use minping_domain::{Channel, IndicatorMask, Nomination, RoundId, UnitId};
use minping_storage::{SqliteStore, Storage};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// The rows an earlier release would have stored: two ballots in round 1 (one open with an
/// exposure, one directed) and one in round 2.
const OLD_ROWS: &str = "
INSERT INTO agencies (id, name) VALUES (1, '区市场监管局');
INSERT INTO units (id, agency_id, name, kind) VALUES
    (1, 1, '食品经营许可科', '科室'), (2, 1, '登记注册科', '科室'), (3, 1, '办公室', '科室');
INSERT INTO rounds (id, label, state, settings, created_at) VALUES
    (1, '2026年第三季度', 'closed', '{}', '2026-07-01 00:00:00'),
    (2, '2026年第四季度', 'open', '{}', '2026-10-01 00:00:00');
INSERT INTO ballots (id, round_id, channel, receipt, received_on) VALUES
    (8817263541, 1, 'open', 'AAAA-BBBB-CCCC', '2026-07-02'),
    (12, 1, 'directed', 'DDDD-EEEE-FFFF', NULL),
    (4400000000000000001, 2, 'open', 'GGGG-HHHH-JJJJ', '2026-10-03');
INSERT INTO nominations (ballot_id, round_id, unit_id, channel, indicators, comment) VALUES
    (8817263541, 1, 2, 'open', 1, NULL),
    (8817263541, 1, 1, 'open', 3, '材料要求一次说不清，来回跑了四趟。'),
    (12, 1, 1, 'directed', 4, NULL),
    (4400000000000000001, 2, 1, 'open', 16, '暗示要请吃饭才能加快办理。');
INSERT INTO exposures (ballot_id, unit_id) VALUES (8817263541, 2), (8817263541, 3);
";

#[tokio::test]
async fn ballots_stored_before_nominations_were_kept_by_unit_survive_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minping.db");

    // The schema as migration 0005 left it, with ballots in it.
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version <= 5)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    before.run(&pool).await.unwrap();
    sqlx::raw_sql(OLD_ROWS).execute(&pool).await.unwrap();
    pool.close().await;

    // Opening the file applies the rest.
    let store = SqliteStore::open(&path).await.unwrap();

    let open = store
        .ballot_by_receipt("AAAA-BBBB-CCCC")
        .await
        .unwrap()
        .expect("the open ballot is still found by its receipt");
    assert_eq!(open.round_id, RoundId(1));
    assert_eq!(open.ballot.channel, Channel::Open);
    assert_eq!(
        open.ballot.nominations,
        vec![
            Nomination {
                unit_id: UnitId(1),
                indicators: IndicatorMask(3),
                comment: Some("材料要求一次说不清，来回跑了四趟。".into()),
            },
            Nomination {
                unit_id: UnitId(2),
                indicators: IndicatorMask(1),
                comment: None,
            },
        ]
    );
    assert_eq!(open.ballot.exposure, vec![UnitId(2), UnitId(3)]);

    let directed = store
        .ballot_by_receipt("DDDD-EEEE-FFFF")
        .await
        .unwrap()
        .expect("the directed ballot is still found");
    assert_eq!(directed.received_on, None);
    assert_eq!(directed.ballot.nominations.len(), 1);

    // Round 1: unit 1 named once on each channel, unit 2 once; round 2 is apart.
    let tallies = store.tallies(RoundId(1), 5).await.unwrap();
    assert_eq!(tallies.len(), 2);
    let unit1 = &tallies[0];
    assert_eq!(unit1.unit_id, UnitId(1));
    assert_eq!(unit1.nominations[&Channel::Open], 1);
    assert_eq!(unit1.nominations[&Channel::Directed], 1);
    assert_eq!(unit1.indicator_counts, vec![1, 1, 1, 0, 0]);
    let unit2 = &tallies[1];
    assert_eq!(unit2.unit_id, UnitId(2));
    assert_eq!(unit2.nominations.get(&Channel::Directed), None);
    assert_eq!(unit2.nominations[&Channel::Open], 1);
    assert_eq!(
        store.tallies(RoundId(2), 5).await.unwrap()[0].indicator_counts,
        vec![0, 0, 0, 0, 1]
    );

    assert_eq!(
        store.comments(RoundId(1), UnitId(1)).await.unwrap(),
        vec!["材料要求一次说不清，来回跑了四趟。".to_string()]
    );
    assert_eq!(
        store.comments(RoundId(2), UnitId(1)).await.unwrap(),
        vec!["暗示要请吃饭才能加快办理。".to_string()]
    );
}

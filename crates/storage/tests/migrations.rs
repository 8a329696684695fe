//! Upgrading a SQLite file written by an earlier release keeps what it holds:
//! - before nominations were kept by unit (migration 0006), every ballot: its receipt still
//!   finds it whole, and the tallies and comments are what they were (PostgreSQL's schema
//!   did not change with that migration);
//! - before rounds had periods (SQLite 0007, PostgreSQL 0006, tested on both), every round,
//!   as the quarter its label names; every retired unit, dated; every substantiated report,
//!   booked to the round that counted it; and an upgrade that finds two rounds open is
//!   refused with the reason.

use minping_domain::{Channel, IndicatorMask, Nomination, RoundId, UnitId};
use minping_storage::{PanelStore, PgStore, SqliteStore, Storage};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// The rows an earlier release would have stored: two ballots in round 1 (one open with an
/// exposure, one directed) and one in round 2.
const OLD_ROWS: &str = "
INSERT INTO agencies (id, name) VALUES (1, '区市场监管局');
INSERT INTO units (id, agency_id, name, kind) VALUES
    (1, 1, '食品经营许可科', '科室'), (2, 1, '登记注册科', '科室'), (3, 1, '办公室', '科室');
INSERT INTO rounds (id, label, state, settings, created_at) VALUES
    (1, '2026Q3', 'closed', '{}', '2026-07-01 00:00:00'),
    (2, '2026Q4', 'open', '{}', '2026-10-01 00:00:00');
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

/// A SQLite file with the schema as migration `version` left it and `rows` in it.
async fn file_at(path: &std::path::Path, version: i64, rows: &str) {
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    before.run(&pool).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn ballots_stored_before_nominations_were_kept_by_unit_survive_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minping.db");
    file_at(&path, 5, OLD_ROWS).await;

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

/// What a release before periods stored: three quarters, a retired unit, and substantiated
/// reports against one unit: one counted by 2024Q1, one by 2024Q2 (finalized at 07:30 on
/// the day it was concluded, the district's day running eight hours ahead of the stored
/// UTC instant), and one concluded the day after 2024Q2 was finalized, counted by no round.
const BEFORE_PERIODS: &str = "
INSERT INTO agencies (id, name) VALUES (1, '区交通局');
INSERT INTO units (id, agency_id, name, kind, active) VALUES
    (1, 1, '出租汽车管理科', '科室', FALSE), (2, 1, '道路运输管理科', '科室', TRUE);
INSERT INTO rounds (id, label, state, settings, created_at) VALUES
    (1, '2024Q1', 'published', 'SETTINGS', '2024-01-01 00:00:00'),
    (2, '2024Q2', 'finalized', 'SETTINGS', '2024-04-01 00:00:00'),
    (3, '2024Q4', 'draft', 'SETTINGS', '2024-10-01 00:00:00');
INSERT INTO round_transitions (round_id, from_state, to_state, actor, at) VALUES
    (1, 'closed', 'finalized', 'organizer', '2024-04-16T02:00:00+00:00'),
    (2, 'closed', 'finalized', 'organizer', '2024-07-15T23:30:00+00:00');
INSERT INTO rankings (round_id, unit_id, rank, score_milli, nominations, indicator_counts,
        substantiated_reports, override) VALUES
    (1, 2, 1, 0, 0, '[0,0,0,0,0]', 1, 'substantiated_report'),
    (2, 2, 1, 0, 0, '[0,0,0,0,0]', 1, 'substantiated_report');
INSERT INTO reports (id, tracking_digest, unit_id, description, source, state, received_on, concluded_on) VALUES
    (1, 'd1', 2, '收受好处费后放行不合格车辆。', 'hotline', 'substantiated', '2024-03-01', '2024-03-20'),
    (2, 'd2', 2, '要求吃请后才办理道路运输证。', 'letter', 'substantiated', '2024-05-01', '2024-07-16'),
    (3, 'd3', 2, '办理时间过长。', 'web', 'investigating', '2024-05-01', NULL),
    (4, 'd4', 2, '索要购物卡。', 'web', 'substantiated', '2024-07-01', '2024-07-17');
";

/// What the rows above read as once upgraded, on either backend.
async fn periods_units_and_reports_are_as_they_were(store: &dyn Storage) {
    use minping_domain::{Period, settings::RoundSettings};
    use minping_storage::Actor;
    let periods: Vec<(String, String, String)> = store
        .rounds()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.period.to_string(),
                r.period.start().to_string(),
                r.period.end().to_string(),
            )
        })
        .collect();
    assert_eq!(
        periods,
        [
            ("2024Q4".into(), "2024-10-01".into(), "2024-12-31".into()),
            ("2024Q2".into(), "2024-04-01".into(), "2024-06-30".into()),
            ("2024Q1".into(), "2024-01-01".into(), "2024-03-31".into()),
        ]
    );
    // The periods now guard against overlaps, old rounds included.
    let settings = RoundSettings::default();
    let system = Actor::system();
    let create = |label: &str| {
        store.create_round(
            label.parse::<Period>().unwrap(),
            &settings,
            &system,
            chrono::Utc::now(),
        )
    };
    assert!(matches!(
        create("2024-03-15..2024-03-20").await,
        Err(minping_storage::StorageError::Conflict(_))
    ));
    create("2024Q3").await.expect("the skipped quarter is free");

    let units = store.units().await.unwrap();
    let retired = units.iter().find(|u| u.id == UnitId(1)).unwrap();
    assert!(!retired.active && retired.retired_on.is_some());
    assert!(
        units
            .iter()
            .find(|u| u.id == UnitId(2))
            .unwrap()
            .retired_on
            .is_none()
    );

    let mut counted = Vec::new();
    for id in 1..=4 {
        counted.push(store.report(id).await.unwrap().unwrap().counted_in);
    }
    assert_eq!(
        counted,
        [Some(RoundId(1)), Some(RoundId(2)), None, None],
        "each report in the round that counted it; the last one is left for the next round"
    );
}

#[tokio::test]
async fn rounds_units_and_reports_stored_before_periods_survive_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minping.db");
    file_at(&path, 6, &before_periods()).await;
    let store = SqliteStore::open(&path).await.unwrap();
    periods_units_and_reports_are_as_they_were(&store).await;
}

#[tokio::test]
async fn rounds_units_and_reports_stored_before_periods_survive_the_upgrade_on_postgres() {
    let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return;
    };
    let schema = format!("m_{:016x}", rand::random::<u64>());
    // The schema as PostgreSQL's migration 0005 left it, and the rows.
    let pool = schema_at(&url, &schema, 5).await;
    let rows = before_periods()
        + "SELECT setval(pg_get_serial_sequence('rounds', 'id'), 3);
           SELECT setval(pg_get_serial_sequence('reports', 'id'), 4);";
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let store = PgStore::connect(&url, Some(&schema)).await.unwrap();
    let outcome = tokio::spawn(async move {
        periods_units_and_reports_are_as_they_were(&store).await;
    })
    .await;
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn an_upgrade_with_two_rounds_open_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minping.db");
    let rows = before_periods().replace("'2024Q4', 'draft'", "'2024Q4', 'open'");
    let rows = rows.replace("'2024Q2', 'finalized'", "'2024Q2', 'open'");
    file_at(&path, 6, &rows).await;
    let refused = SqliteStore::open(&path).await.err().expect("refused");
    assert!(
        refused
            .to_string()
            .contains("at most one round may be open"),
        "{refused}"
    );
}

fn before_periods() -> String {
    let settings =
        serde_json::to_string(&minping_domain::settings::RoundSettings::default()).unwrap();
    BEFORE_PERIODS.replace("SETTINGS", &settings)
}

/// A PostgreSQL schema with the migrations up to `version` applied.
async fn schema_at(url: &str, schema: &str, version: i64) -> sqlx::PgPool {
    use sqlx::{Connection, Executor, postgres::PgConnectOptions};
    use std::str::FromStr;
    let options = PgConnectOptions::from_str(url).unwrap();
    let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .await
        .unwrap();
    conn.close().await.unwrap();
    let pool = sqlx::PgPool::connect_with(options.options([("search_path", schema)]))
        .await
        .unwrap();
    let mut before = sqlx::migrate!("./migrations/postgres");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    before.run(&pool).await.unwrap();
    pool
}

/// What a release before spent codes stored: two members drawn for round 2, one of whom
/// answered on paper (the day kept beside the member), a counted conflict still holding its
/// content, and the counted paper form of the member who answered.
const BEFORE_SPENT_CODES: &str = "
INSERT INTO agencies (id, name) VALUES (1, '区市场监管局');
INSERT INTO rounds (id, label, state, settings, created_at, period_start, period_end) VALUES
    (2, '2026Q4', 'open', '{}', '2026-10-01 00:00:00', '2026-10-01', '2026-12-31');
INSERT INTO panel_members (id, name, grp, address, postcode, phone, units, source, added_on) VALUES
    (1, '甲', 'enterprise', '东城街道1号', '408400', '13800000001', '[]', '测试', '2026-01-01'),
    (2, '乙', 'individual', '东城街道2号', '408400', '13800000002', '[]', '测试', '2026-01-01');
INSERT INTO panel_sample (round_id, member_id, grp, code_digest, mail_status, responded_on, response) VALUES
    (2, 1, 'enterprise', 'digest-one', 'mailed', '2026-10-05', 'paper'),
    (2, 2, 'individual', 'digest-two', 'mailed', NULL, NULL);
INSERT INTO code_conflicts (round_id, code_digest, response, content, received_on, state) VALUES
    (2, 'tag-of-one', 'online', '{\"nominations\":[]}', '2026-10-06', 'counted');
INSERT INTO paper_forms (round_id, form_key, outcome, decided_by, decided_at) VALUES
    (2, 'digest-one', 'counted', 'clerk', '2026-10-05T02:00:00+00:00'),
    (2, 'open-17', 'counted', 'clerk', '2026-10-05T02:00:00+00:00');
";

#[tokio::test]
async fn answers_recorded_beside_the_sample_move_to_spent_codes_and_lose_their_day() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minping.db");
    file_at(&path, 8, BEFORE_SPENT_CODES).await;
    let store = SqliteStore::open(&path).await.unwrap();

    let sample = store.sample(RoundId(2)).await.unwrap();
    let response: Vec<_> = sample.iter().map(|s| (s.member.id, s.response)).collect();
    assert_eq!(
        response,
        vec![(1, Some(minping_storage::Response::Paper)), (2, None)]
    );
    assert_eq!(
        store.code_state(RoundId(2), "digest-one").await.unwrap(),
        Some(true)
    );
    assert_eq!(
        store.code_state(RoundId(2), "digest-two").await.unwrap(),
        Some(false)
    );

    let pool = SqlitePool::connect_with(SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('panel_sample')")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        !columns
            .iter()
            .any(|c| c == "responded_on" || c == "response"),
        "{columns:?}"
    );
    let content: String =
        sqlx::query_scalar("SELECT content FROM code_conflicts WHERE state = 'counted'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        content, "",
        "a counted conflict's content lives in its ballot"
    );
    let forms: Vec<String> = sqlx::query_scalar("SELECT form_key FROM paper_forms")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(forms, vec!["open-17".to_string()]);
}

#[tokio::test]
async fn after_the_upgrade_on_postgres_no_sample_row_shares_a_transaction_with_a_ballot() {
    let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return;
    };
    let schema = format!("m_{:016x}", rand::random::<u64>());
    let pool = schema_at(&url, &schema, 7).await;
    // Before: the member's code was spent in the transaction that stored their ballot.
    let (people, _) = BEFORE_SPENT_CODES
        .split_once("INSERT INTO panel_sample")
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "{people}
         INSERT INTO panel_sample (round_id, member_id, grp, code_digest, mail_status) VALUES
             (2, 1, 'enterprise', 'digest-one', 'mailed'), (2, 2, 'individual', 'digest-two', 'mailed');"
    )))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(
        "BEGIN;
         INSERT INTO ballots (id, round_id, channel, receipt, received_on)
             VALUES (77, 2, 'directed', 'DDDD-EEEE-FFFF', NULL);
         UPDATE panel_sample SET responded_on = '2026-10-05', response = 'paper'
             WHERE code_digest = 'digest-one';
         COMMIT;",
    ))
    .execute(&pool)
    .await
    .unwrap();
    let linked = "SELECT COUNT(*) FROM panel_sample s JOIN ballots b \
                  ON CAST(b.xmin AS TEXT) = CAST(s.xmin AS TEXT)";
    let before: i64 = sqlx::query_scalar(linked).fetch_one(&pool).await.unwrap();
    assert_eq!(before, 1, "the old intake left the link");
    pool.close().await;

    let store = PgStore::connect(&url, Some(&schema)).await.unwrap();
    let pool = sqlx::PgPool::connect_with(
        <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]),
    )
    .await
    .unwrap();
    let outcome = tokio::spawn(async move {
        let after: i64 = sqlx::query_scalar(linked).fetch_one(&pool).await.unwrap();
        assert_eq!(after, 0, "the upgrade wrote the sample anew");
        let sample = store.sample(RoundId(2)).await.unwrap();
        assert_eq!(
            sample.iter().map(|s| s.response).collect::<Vec<_>>(),
            vec![Some(minping_storage::Response::Paper), None]
        );
    })
    .await;
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

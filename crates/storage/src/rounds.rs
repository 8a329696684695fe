//! Rounds: their lifecycle, the record of who moved each one and when, and the ranking frozen
//! when a round is finalized.
//!
//! Each `pub(crate)` function is the SQL of the [`crate::Storage`] method of the same
//! name.

use crate::{
    Actor, Finalization, FrozenRanking, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sanctions,
    sql::{MAX_BINDS, corrupt},
};
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    Method, OrgSnapshot, Period, RankedUnit, Ranking, Round, RoundId, RoundState, Transition,
    UnitId, UserId, settings::RoundSettings,
};
use serde_json::json;
use sqlx::{Pool, Row, Transaction};

const ROUND_SELECT: &str =
    "SELECT id, period_start, period_end, state, settings, created_at FROM rounds";

fn round_from<DB: Dialect>(row: &DB::Row) -> Result<Round> {
    let state: String = row.try_get("state")?;
    let settings: String = row.try_get("settings")?;
    Ok(Round {
        id: RoundId(row.try_get("id")?),
        period: Period::new(row.try_get("period_start")?, row.try_get("period_end")?)
            .map_err(corrupt)?,
        state: state.parse::<RoundState>().map_err(corrupt)?,
        settings: serde_json::from_str::<RoundSettings>(&settings).map_err(corrupt)?,
        created_at: row.try_get("created_at")?,
    })
}

/// A violated rule the database keeps for rounds, as a conflict the caller can explain:
/// overlapping periods (SQLite's trigger, PostgreSQL's exclusion constraint), a label taken,
/// a second open round (a unique index).
fn round_conflict(e: sqlx::Error) -> StorageError {
    let Some(db) = e.as_database_error() else {
        return StorageError::Database(e);
    };
    let message = db.message();
    if db.code().as_deref() == Some("23P01") || message.contains("round periods overlap") {
        StorageError::Conflict("the period overlaps another round's".into())
    } else if db.is_unique_violation() && message.contains("rounds_one_open")
        || db.is_unique_violation() && message.contains("rounds.state")
    {
        StorageError::Conflict("another round is open".into())
    } else if db.is_unique_violation() {
        StorageError::Conflict("a round for that period exists".into())
    } else {
        StorageError::Database(e)
    }
}

pub(crate) async fn create_round<DB: Dialect>(
    pool: &Pool<DB>,
    period: Period,
    settings: &RoundSettings,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Round> {
    let settings_json = serde_json::to_string(settings).map_err(corrupt)?;
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    // The stored row is returned, so the round equals what reading it gives
    // (PostgreSQL keeps microseconds, not the nanoseconds of `at`).
    let row = sqlx::query(
        "INSERT INTO rounds (label, period_start, period_end, state, settings, created_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5) \
         RETURNING id, period_start, period_end, state, settings, created_at",
    )
    .bind(period.to_string())
    .bind(period.start())
    .bind(period.end())
    .bind(&settings_json)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(round_conflict)?;
    let round = round_from::<DB>(&row)?;
    record_transition(&mut tx, round.id.0, "draft", "draft", actor, at).await?;
    let change = Change::new(
        "round.create",
        format!("round:{}", round.id),
        json!({ "period": period.to_string(), "settings": settings }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(round)
}

pub(crate) async fn rounds<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<Round>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ROUND_SELECT} ORDER BY period_start DESC"
    )))
    .fetch_all(pool)
    .await?;
    rows.iter().map(round_from::<DB>).collect()
}

pub(crate) async fn round<DB: Dialect>(pool: &Pool<DB>, id: RoundId) -> Result<Option<Round>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ROUND_SELECT} WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(round_from::<DB>).transpose()
}

pub(crate) async fn transition_round<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
    from: RoundState,
    to: RoundState,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    if !matches!(to, RoundState::Open | RoundState::Closed) {
        return Err(StorageError::Conflict(format!(
            "a round becomes {to} by finalizing or publishing it"
        )));
    }
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    move_state(&mut tx, id, from, to, actor, at).await?;
    if to == RoundState::Closed {
        // Paper entries never agreed on hold a code's digest beside what was keyed: once
        // the round takes no more ballots, they go.
        sqlx::query("DELETE FROM paper_entries WHERE round_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        // The organisation the round's ranking and sanctions use, as it stands now.
        let snapshot = crate::org::snapshot::<DB>(&mut tx).await?;
        sqlx::query("UPDATE rounds SET org_snapshot = $1 WHERE id = $2")
            .bind(serde_json::to_string(&snapshot).map_err(corrupt)?)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
    }
    let change = Change::new(
        if to == RoundState::Open {
            "round.open"
        } else {
            "round.close"
        },
        format!("round:{id}"),
        json!({ "before": from.as_str(), "after": to.as_str() }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    if to == RoundState::Closed {
        compact::<DB>(pool).await;
    }
    Ok(())
}

/// Runs the dialect's [`Dialect::COMPACT`] statements, in order, on one connection (each
/// runs even if one before it failed: the last restores the session). The close has
/// committed already; a compaction that cannot run now (a long reader holds a table or the
/// log, the role does not own a table) is logged, and the next close runs it again.
async fn compact<DB: Dialect>(pool: &Pool<DB>) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "compaction after close did not run");
            return;
        }
    };
    for statement in DB::COMPACT {
        // The simple protocol: `VACUUM` runs outside any transaction block.
        if let Err(e) = sqlx::raw_sql(*statement).execute(&mut *conn).await {
            tracing::warn!(error = %e, statement, "compaction after close did not run");
        }
    }
}

pub(crate) async fn finalize_round<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
    finalization: &Finalization,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let frozen = &finalization.frozen;
    let method = serde_json::to_string(&frozen.method).map_err(corrupt)?;
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    move_state(
        &mut tx,
        id,
        RoundState::Closed,
        RoundState::Finalized,
        actor,
        at,
    )
    .await?;
    sqlx::query("UPDATE rounds SET method = $1, rules = $2 WHERE id = $3")
        .bind(&method)
        .bind(&finalization.rules)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM rankings WHERE round_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    for chunk in frozen.ranking.entries.chunks(MAX_BINDS / 9) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO rankings (round_id, unit_id, rank, score_milli, nominations, indicator_counts, substantiated_reports, override, by_channel) ",
        );
        let mut unwritable = None;
        q.push_values(chunk, |mut b, e| {
            let counts = serde_json::to_string(&e.indicator_counts);
            if let Err(err) = &counts {
                unwritable = Some(err.to_string());
            }
            let by_channel = serde_json::to_string(&e.by_channel);
            if let Err(err) = &by_channel {
                unwritable = Some(err.to_string());
            }
            b.push_bind(id.0)
                .push_bind(e.unit_id.0)
                .push_bind(e.rank as i64)
                .push_bind(e.score_milli)
                .push_bind(e.nominations as i64)
                .push_bind(counts.unwrap_or_default())
                .push_bind(e.substantiated_reports as i64)
                .push_bind(e.r#override.map(|o| match o {
                    minping_domain::Override::SubstantiatedReport => "substantiated_report",
                }))
                .push_bind(by_channel.unwrap_or_default());
        });
        if let Some(err) = unwritable {
            return Err(corrupt(err));
        }
        q.build().execute(&mut *tx).await?;
    }
    for report in &finalization.counted_reports {
        let marked = sqlx::query(
            "UPDATE reports SET counted_in = $1 WHERE id = $2 AND state = 'substantiated' AND counted_in IS NULL",
        )
        .bind(id.0)
        .bind(report)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 0 {
            return Err(StorageError::Conflict(format!(
                "report {report} was counted in another round meanwhile"
            )));
        }
    }
    sanctions::insert_proposals(&mut tx, id, &finalization.proposals).await?;
    let change = Change::new(
        "round.finalize",
        format!("round:{id}"),
        json!({
            "before": "closed", "after": "finalized",
            "method": frozen.method,
            "rules": serde_json::from_str::<serde_json::Value>(&finalization.rules)
                .unwrap_or(serde_json::Value::String(finalization.rules.clone())),
            "top": frozen.ranking.entries.iter()
                .filter(|e| e.rank <= frozen.ranking.top_n)
                .map(|e| json!([e.rank, e.unit_id.0, e.score_milli]))
                .collect::<Vec<_>>(),
            "counted_reports": finalization.counted_reports,
            "proposals": finalization.proposals.len(),
        }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn publish_round<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
    on: NaiveDate,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    move_state(
        &mut tx,
        id,
        RoundState::Finalized,
        RoundState::Published,
        actor,
        at,
    )
    .await?;
    sanctions::start(&mut tx, id, on).await?;
    crate::integrity::delete_signals(&mut tx, id).await?;
    let change = Change::new(
        "round.publish",
        format!("round:{id}"),
        json!({ "before": "finalized", "after": "published", "effective_on": on }),
    );
    // The head with the publication in it is the round's: its 通报 prints it.
    let head = record::<DB>(&mut tx, actor, at, &change).await?;
    sqlx::query("UPDATE rounds SET audit_seq = $1, audit_hash = $2 WHERE id = $3")
        .bind(head.seq)
        .bind(&head.hash)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn round_rules<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
) -> Result<Option<String>> {
    let rules: Option<Option<String>> =
        sqlx::query_scalar("SELECT rules FROM rounds WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    Ok(rules.flatten())
}

pub(crate) async fn transitions<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
) -> Result<Vec<Transition>> {
    let rows = sqlx::query(
        "SELECT from_state, to_state, user_id, actor, at FROM round_transitions WHERE round_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let from: String = r.try_get("from_state")?;
            let to: String = r.try_get("to_state")?;
            Ok(Transition {
                from: from.parse().map_err(corrupt)?,
                to: to.parse().map_err(corrupt)?,
                user_id: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
                actor: r.try_get("actor")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

pub(crate) async fn frozen_ranking<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
) -> Result<Option<FrozenRanking>> {
    let method: Option<Option<String>> =
        sqlx::query_scalar("SELECT method FROM rounds WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    let Some(Some(method)) = method else {
        return Ok(None);
    };
    let method: Method = serde_json::from_str(&method).map_err(corrupt)?;
    let rows = sqlx::query(
        "SELECT unit_id, rank, score_milli, nominations, indicator_counts, substantiated_reports, override, by_channel \
         FROM rankings WHERE round_id = $1 ORDER BY rank, unit_id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    let entries = rows
        .iter()
        .map(|r| {
            let counts: String = r.try_get("indicator_counts")?;
            let over: Option<String> = r.try_get("override")?;
            let by_channel: Option<String> = r.try_get("by_channel")?;
            Ok(RankedUnit {
                rank: r.try_get::<i64, _>("rank")? as u32,
                unit_id: UnitId(r.try_get("unit_id")?),
                score_milli: r.try_get("score_milli")?,
                nominations: r.try_get::<i64, _>("nominations")? as u64,
                by_channel: by_channel
                    .map(|j| serde_json::from_str(&j).map_err(corrupt))
                    .transpose()?
                    .unwrap_or_default(),
                indicator_counts: serde_json::from_str(&counts).map_err(corrupt)?,
                substantiated_reports: r.try_get::<i64, _>("substantiated_reports")? as u32,
                r#override: over
                    .map(|o| serde_json::from_value(serde_json::Value::String(o)).map_err(corrupt))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let top_n = method.top_n;
    Ok(Some(FrozenRanking {
        method,
        ranking: Ranking { entries, top_n },
    }))
}

async fn record_transition<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    id: i64,
    from: &str,
    to: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO round_transitions (round_id, from_state, to_state, user_id, actor, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(actor.user_id.map(|u| u.0))
    .bind(&actor.name)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Compare-and-set on the round's state, then the record of who moved it.
async fn move_state<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    id: RoundId,
    from: RoundState,
    to: RoundState,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    if from.next() != Some(to) {
        return Err(StorageError::Conflict(format!(
            "a round cannot go from {from} to {to}"
        )));
    }
    let done = sqlx::query("UPDATE rounds SET state = $1 WHERE id = $2 AND state = $3")
        .bind(to.as_str())
        .bind(id.0)
        .bind(from.as_str())
        .execute(&mut **tx)
        .await
        .map_err(round_conflict)?;
    if done.rows_affected() == 0 {
        let exists: Option<String> = sqlx::query_scalar("SELECT state FROM rounds WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
        return Err(match exists {
            None => StorageError::NotFound,
            Some(now) => StorageError::Conflict(format!("the round is {now}, not {from}")),
        });
    }
    record_transition(tx, id.0, from.as_str(), to.as_str(), actor, at).await
}

pub(crate) async fn org_snapshot<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
) -> Result<Option<OrgSnapshot>> {
    let stored: Option<Option<String>> =
        sqlx::query_scalar("SELECT org_snapshot FROM rounds WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    stored
        .flatten()
        .map(|j| serde_json::from_str(&j).map_err(corrupt))
        .transpose()
}

pub(crate) async fn published_head<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
) -> Result<Option<minping_domain::audit::Head>> {
    let row = sqlx::query("SELECT audit_seq, audit_hash FROM rounds WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let seq: Option<i64> = row.try_get("audit_seq")?;
    let hash: Option<String> = row.try_get("audit_hash")?;
    Ok(seq
        .zip(hash)
        .map(|(seq, hash)| minping_domain::audit::Head { seq, hash }))
}

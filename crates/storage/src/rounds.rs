//! Rounds: their lifecycle, the record of who moved each one and when, and the ranking frozen
//! when a round is finalized.
//!
//! Each `pub(crate)` function is the SQL of the [`crate::Storage`] method of the same
//! name.

use crate::{
    Actor, FrozenRanking, Result, StorageError,
    dialect::{Dialect, RowsAffected},
    sql::{MAX_BINDS, conflict_or, corrupt},
};
use chrono::{DateTime, Utc};
use minping_domain::{
    Method, RankedUnit, Ranking, Round, RoundId, RoundLabel, RoundState, Transition, UnitId,
    UserId, settings::RoundSettings,
};
use sqlx::{Pool, Row, Transaction};

const ROUND_SELECT: &str = "SELECT id, label, state, settings, created_at FROM rounds";

fn round_from<DB: Dialect>(row: &DB::Row) -> Result<Round> {
    let label: String = row.try_get("label")?;
    let state: String = row.try_get("state")?;
    let settings: String = row.try_get("settings")?;
    Ok(Round {
        id: RoundId(row.try_get("id")?),
        label: label.parse::<RoundLabel>().map_err(corrupt)?,
        state: state.parse::<RoundState>().map_err(corrupt)?,
        settings: serde_json::from_str::<RoundSettings>(&settings).map_err(corrupt)?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) async fn create_round<DB: Dialect>(
    pool: &Pool<DB>,
    label: RoundLabel,
    settings: &RoundSettings,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Round> {
    let settings_json = serde_json::to_string(settings).map_err(corrupt)?;
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    // The stored row is returned, so the round equals what reading it gives
    // (PostgreSQL keeps microseconds, not the nanoseconds of `at`).
    let row = sqlx::query(
        "INSERT INTO rounds (label, state, settings, created_at) VALUES ($1, 'draft', $2, $3) \
         RETURNING id, label, state, settings, created_at",
    )
    .bind(label.to_string())
    .bind(&settings_json)
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_or(e, "a round for that quarter exists"))?;
    let round = round_from::<DB>(&row)?;
    record_transition(&mut tx, round.id.0, "draft", "draft", actor, at).await?;
    tx.commit().await?;
    Ok(round)
}

pub(crate) async fn rounds<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<Round>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ROUND_SELECT} ORDER BY label DESC"
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
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    move_state(&mut tx, id, from, to, actor, at).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn finalize_round<DB: Dialect>(
    pool: &Pool<DB>,
    id: RoundId,
    frozen: &FrozenRanking,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
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
    sqlx::query("UPDATE rounds SET method = $1 WHERE id = $2")
        .bind(&method)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM rankings WHERE round_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    for chunk in frozen.ranking.entries.chunks(MAX_BINDS / 8) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO rankings (round_id, unit_id, rank, score_milli, nominations, indicator_counts, substantiated_reports, override) ",
        );
        q.push_values(chunk, |mut b, e| {
            b.push_bind(id.0)
                .push_bind(e.unit_id.0)
                .push_bind(e.rank as i64)
                .push_bind(e.score_milli)
                .push_bind(e.nominations as i64)
                .push_bind(serde_json::to_string(&e.indicator_counts).unwrap_or_default())
                .push_bind(e.substantiated_reports as i64)
                .push_bind(e.r#override.and_then(|o| {
                    serde_json::to_value(o)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                }));
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
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
        "SELECT unit_id, rank, score_milli, nominations, indicator_counts, substantiated_reports, override \
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
            Ok(RankedUnit {
                rank: r.try_get::<i64, _>("rank")? as u32,
                unit_id: UnitId(r.try_get("unit_id")?),
                score_milli: r.try_get("score_milli")?,
                nominations: r.try_get::<i64, _>("nominations")? as u64,
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
        .await?;
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

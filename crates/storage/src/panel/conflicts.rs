//! The conflict queue: ballots refused because their code had been spent, kept for the
//! organizer to count or dismiss.
//!
//! Each `pub(super)` function is the SQL of the [`super::PanelStore`] method of the
//! same name.

use super::{Conflict, response_from};
use crate::{
    Actor, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::corrupt,
};
use chrono::{DateTime, Utc};
use minping_domain::RoundId;
use serde_json::json;
use sqlx::{Pool, Row};

fn conflict_from<DB: Dialect>(r: &DB::Row) -> Result<Conflict> {
    Ok(Conflict {
        id: r.try_get("id")?,
        round_id: RoundId(r.try_get("round_id")?),
        code_digest: r.try_get("code_digest")?,
        response: response_from(Some(r.try_get("response")?))?
            .ok_or_else(|| corrupt("response"))?,
        content: r.try_get("content")?,
        received_on: r.try_get("received_on")?,
        state: r.try_get("state")?,
        resolved_by: r.try_get("resolved_by")?,
        reason: r.try_get("reason")?,
    })
}

pub(super) async fn conflicts<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<Vec<Conflict>> {
    let rows = sqlx::query(
        "SELECT id, round_id, code_digest, response, content, received_on, state, resolved_by, reason \
         FROM code_conflicts WHERE round_id = $1 ORDER BY state <> 'pending', id",
    )
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(conflict_from::<DB>).collect()
}

pub(super) async fn conflict<DB: Dialect>(pool: &Pool<DB>, id: i64) -> Result<Option<Conflict>> {
    let row = sqlx::query(
        "SELECT id, round_id, code_digest, response, content, received_on, state, resolved_by, reason \
         FROM code_conflicts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(conflict_from::<DB>).transpose()
}

pub(super) async fn resolve_conflict<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    counted: bool,
    actor: &Actor,
    reason: &str,
    at: DateTime<Utc>,
    tag: &str,
) -> Result<Conflict> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let done = sqlx::query(
        "UPDATE code_conflicts SET state = $1, resolved_by = $2, resolved_at = $3, reason = $4, code_digest = $6, \
         content = CASE WHEN $1 = 'counted' THEN '' ELSE content END \
         WHERE id = $5 AND state = 'pending'",
    )
    .bind(if counted { "counted" } else { "dismissed" })
    .bind(&actor.name)
    .bind(at)
    .bind(reason)
    .bind(id)
    .bind(tag)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict(
            "no pending conflict with that id".into(),
        ));
    }
    let row = sqlx::query(
        "SELECT id, round_id, code_digest, response, content, received_on, state, resolved_by, reason \
         FROM code_conflicts WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let conflict = conflict_from::<DB>(&row)?;
    let change = Change::new(
        if counted {
            "conflict.count"
        } else {
            "conflict.dismiss"
        },
        format!("conflict:{id}"),
        json!({ "round_id": conflict.round_id.0, "reason": reason }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(conflict)
}

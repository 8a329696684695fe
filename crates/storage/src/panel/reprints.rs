//! Reprinting a round's codes after mailing: one organizer asks, another approves, and the
//! approval is used by one printing. Every step goes to the audit log.
//!
//! Each `pub(super)` function is the SQL of the [`super::PanelStore`] method of the
//! same name.

use super::Reprint;
use crate::{
    Actor, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
};
use chrono::{DateTime, Utc};
use minping_domain::RoundId;
use serde_json::json;
use sqlx::{Pool, Row};

pub(super) async fn ask_reprint<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<i64> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM reprints WHERE round_id = $1 AND state IN ('pending', 'approved')",
    )
    .bind(round.0)
    .fetch_optional(&mut *tx)
    .await?;
    if open.is_some() {
        return Err(StorageError::Conflict(
            "a reprint of this round is already asked for".into(),
        ));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO reprints (round_id, reason, asked_by, asked_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(round.0)
    .bind(reason)
    .bind(actor.user_id.map(|u| u.0))
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| crate::sql::conflict_or(e, "a reprint of this round is already asked for"))?;
    let change = Change::new(
        "reprint.ask",
        format!("reprint:{id}"),
        json!({ "round_id": round.0, "reason": reason }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn decide_reprint<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    approve: bool,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let row = sqlx::query("SELECT round_id, asked_by, state FROM reprints WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
    let asked_by: Option<i64> = row.try_get("asked_by")?;
    let round_id: i64 = row.try_get("round_id")?;
    if asked_by.is_none() || actor.user_id.is_none() || asked_by == actor.user_id.map(|u| u.0) {
        return Err(StorageError::Conflict(
            "a reprint is approved by a second organizer, not the one who asked".into(),
        ));
    }
    let done = sqlx::query(
        "UPDATE reprints SET state = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND state = 'pending'",
    )
    .bind(if approve { "approved" } else { "refused" })
    .bind(actor.user_id.map(|u| u.0))
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict(
            "this reprint has been decided already".into(),
        ));
    }
    let change = Change::new(
        if approve {
            "reprint.approve"
        } else {
            "reprint.refuse"
        },
        format!("reprint:{id}"),
        json!({ "round_id": round_id }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn use_reprint<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<i64> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM reprints WHERE round_id = $1 AND state = 'approved' ORDER BY id",
    )
    .bind(round.0)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(StorageError::Conflict(
            "the forms were mailed: reprinting them needs an approved reprint".into(),
        ));
    };
    let done =
        sqlx::query("UPDATE reprints SET state = 'used' WHERE id = $1 AND state = 'approved'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict(
            "this reprint has been used already".into(),
        ));
    }
    let change = Change::new(
        "forms.reprint",
        format!("round:{round}"),
        json!({ "reprint": id }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn reprints<DB: Dialect>(pool: &Pool<DB>, round: RoundId) -> Result<Vec<Reprint>> {
    let rows = sqlx::query(
        "SELECT r.id, r.round_id, r.reason, r.state, r.asked_at, r.decided_at, \
         a.name AS asked_by, d.name AS decided_by \
         FROM reprints r LEFT JOIN users a ON a.id = r.asked_by LEFT JOIN users d ON d.id = r.decided_by \
         WHERE r.round_id = $1 ORDER BY r.id DESC",
    )
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Reprint {
                id: r.try_get("id")?,
                round_id: RoundId(r.try_get("round_id")?),
                reason: r.try_get("reason")?,
                state: r.try_get("state")?,
                asked_by: r.try_get("asked_by")?,
                asked_at: r.try_get("asked_at")?,
                decided_by: r.try_get("decided_by")?,
                decided_at: r.try_get("decided_at")?,
            })
        })
        .collect()
}

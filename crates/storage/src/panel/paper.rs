//! Blind double entry of paper forms: each clerk's keying, the forms whose two entries
//! disagree or wait for a second clerk, and a form's outcome once decided.
//!
//! Each `pub(super)` function is the SQL of the [`super::PanelStore`] method of the
//! same name.

use super::PaperEntry;
use crate::{
    Actor, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
};
use chrono::{DateTime, Utc};
use minping_domain::{RoundId, UserId};
use serde_json::json;
use sqlx::{Pool, Row};
use std::collections::BTreeMap;

const ENTRY_SELECT: &str = "SELECT e.id, e.form_key, e.channel, e.clerk_id, u.name AS clerk, e.content, e.created_at \
     FROM paper_entries e JOIN users u ON u.id = e.clerk_id";

fn entry_from<DB: Dialect>(r: &DB::Row) -> Result<PaperEntry> {
    Ok(PaperEntry {
        id: r.try_get("id")?,
        form_key: r.try_get("form_key")?,
        channel: r.try_get("channel")?,
        clerk_id: UserId(r.try_get("clerk_id")?),
        clerk: r.try_get("clerk")?,
        content: r.try_get("content")?,
        created_at: r.try_get("created_at")?,
    })
}

/// What became of a paper form (`$1` the round, `$2` its key): its `paper_forms` row, or
/// for a directed form counted into a ballot, which leaves none, `counted` when its code was
/// spent on paper (a code spent online leaves the form undecided: keyed, it goes to the
/// conflict queue).
pub(crate) const PAPER_OUTCOME: &str = "SELECT outcome FROM paper_forms WHERE round_id = $1 AND form_key = $2 \
     UNION ALL SELECT 'counted' FROM spent_codes \
     WHERE round_id = $1 AND code_digest = $2 AND response = 'paper'";

pub(super) async fn add_paper_entry<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    form_key: &str,
    channel: &str,
    clerk: UserId,
    content: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    // Read inside the transaction (and held on PostgreSQL): an entry keyed while the round
    // closes either lands before the close purges the round's entries, or not at all.
    let state: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT state FROM rounds WHERE id = $1{}",
        DB::SHARE_LOCK
    )))
    .bind(round.0)
    .fetch_optional(&mut *tx)
    .await?;
    if state.as_deref() != Some("open") {
        return Err(StorageError::Conflict(
            "the round takes no more entries".into(),
        ));
    }
    let decided: Option<String> = sqlx::query_scalar(PAPER_OUTCOME)
        .bind(round.0)
        .bind(form_key)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(outcome) = decided {
        return Err(StorageError::Conflict(format!(
            "this form is already decided ({outcome})"
        )));
    }
    let existing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM paper_entries WHERE round_id = $1 AND form_key = $2",
    )
    .bind(round.0)
    .bind(form_key)
    .fetch_one(&mut *tx)
    .await?;
    if existing >= 2 {
        return Err(StorageError::Conflict(
            "this form has two entries already and awaits adjudication".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO paper_entries (round_id, form_key, channel, clerk_id, content, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(round.0)
    .bind(form_key)
    .bind(channel)
    .bind(clerk.0)
    .bind(content)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(
            "you keyed this form already: a different clerk must key it the second time".into(),
        ),
        _ => StorageError::Database(e),
    })?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn paper_entries<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    form_key: &str,
) -> Result<Vec<PaperEntry>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ENTRY_SELECT} WHERE e.round_id = $1 AND e.form_key = $2 ORDER BY e.id"
    )))
    .bind(round.0)
    .bind(form_key)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_from::<DB>).collect()
}

pub(super) async fn disputed_forms<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<Vec<Vec<PaperEntry>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ENTRY_SELECT} WHERE e.round_id = $1 ORDER BY e.form_key, e.id"
    )))
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    let mut forms: BTreeMap<String, Vec<PaperEntry>> = BTreeMap::new();
    for r in &rows {
        let e = entry_from::<DB>(r)?;
        forms.entry(e.form_key.clone()).or_default().push(e);
    }
    Ok(forms
        .into_values()
        .filter(|entries| entries.len() >= 2)
        .collect())
}

pub(super) async fn forms_awaiting_second_entry<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<Vec<PaperEntry>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ENTRY_SELECT} WHERE e.round_id = $1 AND (SELECT COUNT(*) FROM paper_entries o \
         WHERE o.round_id = e.round_id AND o.form_key = e.form_key) = 1 ORDER BY e.id"
    )))
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_from::<DB>).collect()
}

pub(super) async fn paper_outcome<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    form_key: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(PAPER_OUTCOME)
        .bind(round.0)
        .bind(form_key)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn close_paper_form<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    form_key: &str,
    outcome: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let channel: Option<String> = sqlx::query_scalar(
        "SELECT channel FROM paper_entries WHERE round_id = $1 AND form_key = $2 LIMIT 1",
    )
    .bind(round.0)
    .bind(form_key)
    .fetch_optional(&mut *tx)
    .await?;
    // Taking the two entries decides the form: a ballot counting it at the same moment
    // takes them too, and one of the two finds them gone.
    let taken = sqlx::query("DELETE FROM paper_entries WHERE round_id = $1 AND form_key = $2")
        .bind(round.0)
        .bind(form_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if taken < 2 {
        return Err(StorageError::Conflict(
            "this form is already decided".into(),
        ));
    }
    sqlx::query(
        "INSERT INTO paper_forms (round_id, form_key, outcome, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(round.0)
    .bind(form_key)
    .bind(outcome)
    .bind(&actor.name)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict("this form is already decided".into())
        }
        _ => StorageError::Database(e),
    })?;
    // A directed form is known by its code's digest: the log, kept for good, names its
    // round only.
    let change = if channel.as_deref() == Some("directed") {
        Change::new(
            "paper.dismiss",
            format!("round:{round}"),
            json!({ "channel": "directed", "outcome": outcome }),
        )
    } else {
        Change::new(
            "paper.dismiss",
            format!("paper_form:{round}:{form_key}"),
            json!({ "channel": "open", "outcome": outcome }),
        )
    };
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

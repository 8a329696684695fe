//! The audit log: [`record`] appends a staff action to the hash chain inside the
//! transaction that makes the change, so the change and its record commit together or not
//! at all; [`AuditStore`] reads the log back and gives it to
//! [`minping_domain::audit::verify`].
//!
//! Appending takes the chain's head row for update (`UPDATE audit_head … RETURNING`), which
//! orders every appender on both backends; it is the last statement of a transaction, so
//! a transaction holding the head waits for no other lock.

use crate::{Actor, Result, Store, dialect::Dialect, sql::corrupt};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use minping_domain::audit::{Event, Head, hash};
use sqlx::Row;

/// What a staff action changed, as the log keeps it.
#[derive(Debug, Clone)]
pub struct Change {
    /// What was done: `<object kind>.<verb>` (`round.open`, `post.assign`, …).
    pub action: &'static str,
    /// What it was done to: `<kind>:<id>`.
    pub object: String,
    /// Before, after and other particulars (ids for personal data, never copies).
    pub detail: serde_json::Value,
}

impl Change {
    /// A change of `action` to `object`, with `detail`.
    pub fn new(action: &'static str, object: impl Into<String>, detail: serde_json::Value) -> Self {
        Self {
            action,
            object: object.into(),
            detail,
        }
    }
}

/// The whole log as of one moment: its events in place order, its recorded head, and the
/// head each published round recorded.
#[derive(Debug, Clone)]
pub struct AuditLog {
    /// Every event, by place.
    pub events: Vec<Event>,
    /// The recorded head.
    pub head: Head,
    /// Each published round's head, by round.
    pub published: Vec<(minping_domain::RoundId, Head)>,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events about this object (`round:3`), or whose object starts with this kind
    /// (`round:`).
    pub object: Option<String>,
    /// Only events before this place (for paging back), newest first.
    pub before: Option<i64>,
    /// At most this many (newest first); all when `None`.
    pub limit: Option<i64>,
}

/// The text an event's time is stored and hashed as.
pub fn stored_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Appends `change`, done by `actor` at `at`, to the chain, on the connection of the
/// transaction that makes it. Call it last in that transaction.
pub(crate) async fn record<DB: Dialect>(
    conn: &mut DB::Connection,
    actor: &Actor,
    at: DateTime<Utc>,
    change: &Change,
) -> Result<Head> {
    let row = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = row.try_get("seq")?;
    let prev: String = row.try_get("hash")?;
    let at = stored_time(at);
    let actor_id = actor.user_id.map(|u| u.0);
    let detail = change.detail.to_string();
    let hash = hash(
        &prev,
        seq,
        &at,
        actor_id,
        &actor.name,
        change.action,
        &change.object,
        &detail,
    );
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_id, actor, action, object, detail, prev, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(&at)
    .bind(actor_id)
    .bind(&actor.name)
    .bind(change.action)
    .bind(&change.object)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(Head { seq, hash })
}

fn event_from<DB: Dialect>(row: &DB::Row) -> Result<Event> {
    Ok(Event {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_id: row.try_get("actor_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object: row.try_get("object")?,
        detail: row.try_get("detail")?,
        prev: row.try_get("prev")?,
        hash: row.try_get("hash")?,
    })
}

const EVENT_COLUMNS: &str = "seq, at, actor_id, actor, action, object, detail, prev, hash";

/// Reading the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records an action that changes nothing else stored (printing forms, downloading a
    /// list of personal data) in a transaction of its own.
    async fn record_action(&self, actor: &Actor, at: DateTime<Utc>, change: &Change) -> Result<()>;
    /// The whole log read in one snapshot: what [`minping_domain::audit::verify`] walks,
    /// and the published heads to find in it.
    async fn audit_log(&self) -> Result<AuditLog>;
    /// Some events, newest first.
    async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<Event>>;
    /// The recorded head.
    async fn audit_head(&self) -> Result<Head>;
}

#[async_trait]
impl<DB: Dialect> AuditStore for Store<DB> {
    async fn record_action(&self, actor: &Actor, at: DateTime<Utc>, change: &Change) -> Result<()> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        record::<DB>(&mut tx, actor, at, change).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_log(&self) -> Result<AuditLog> {
        // One transaction, so the head, the events and the rounds' heads are read as of one
        // moment (an appender commits all or none): SQLite's read transaction sees one
        // snapshot of its log; PostgreSQL is asked for one (see `Dialect::BEGIN_SNAPSHOT`).
        let mut tx = self.pool.begin_with(DB::BEGIN_SNAPSHOT).await?;
        let head = read_head::<DB>(&mut tx).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events ORDER BY seq"
        )))
        .fetch_all(&mut *tx)
        .await?;
        let rounds = sqlx::query(
            "SELECT id, audit_seq, audit_hash FROM rounds WHERE audit_seq IS NOT NULL ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let events = rows.iter().map(event_from::<DB>).collect::<Result<_>>()?;
        let published = rounds
            .iter()
            .map(|r| {
                Ok((
                    minping_domain::RoundId(r.try_get("id")?),
                    Head {
                        seq: r.try_get("audit_seq")?,
                        hash: r.try_get("audit_hash")?,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        Ok(AuditLog {
            events,
            head,
            published,
        })
    }

    async fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<Event>> {
        // An object (`round:3`), a kind (`round:`), or everything (empty).
        let object = filter.object.as_deref().unwrap_or("");
        let test = if object.ends_with(':') {
            "substr(object, 1, length($1)) = $1"
        } else {
            "object = $1"
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE ($1 = '' OR {test}) \
             AND seq < $2 ORDER BY seq DESC LIMIT $3"
        )))
        .bind(object)
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(filter.limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from::<DB>).collect()
    }

    async fn audit_head(&self) -> Result<Head> {
        let mut conn = self.pool.acquire().await?;
        read_head::<DB>(&mut conn).await
    }
}

async fn read_head<DB: Dialect>(conn: &mut DB::Connection) -> Result<Head> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| corrupt("the audit log has no head row"))?;
    Ok(Head {
        seq: row.try_get("seq")?,
        hash: row.try_get("hash")?,
    })
}

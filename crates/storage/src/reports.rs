//! What reports (举报) need from storage, and its SQL.

use crate::{
    Actor, Result, StorageError, Store,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::corrupt,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    RoundId, UnitId,
    report::{NewEvidence, NewReport, ReportSource, ReportState, Uncounted},
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Id.
    pub id: i64,
    /// The unit reported.
    pub unit_id: UnitId,
    /// Named staff.
    pub staff: Option<String>,
    /// What happened.
    pub description: String,
    /// The reporter's contact (investigators only).
    pub contact: Option<String>,
    /// When it happened.
    pub occurred_on: Option<NaiveDate>,
    /// Where it came from.
    pub source: ReportSource,
    /// Where it is.
    pub state: ReportState,
    /// When it came.
    pub received_on: NaiveDate,
    /// When it was concluded.
    pub concluded_on: Option<NaiveDate>,
    /// The round a substantiated report was counted in, at rank 1.
    pub counted_in: Option<RoundId>,
    /// The disciplinary action recorded for a substantiated report.
    pub disciplinary_action: Option<String>,
    /// The staff member who took it in (hotline, letter, visit); none for the public's own.
    #[serde(skip)]
    pub taken_by: Option<minping_domain::UserId>,
}

/// One recorded step of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportEvent {
    /// Before.
    pub from: ReportState,
    /// After.
    pub to: ReportState,
    /// Who.
    pub actor: String,
    /// Their account.
    #[serde(skip)]
    pub user_id: Option<minping_domain::UserId>,
    /// Why (internal note).
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An evidence file as stored, without its content (which only a download reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceMeta {
    /// Id.
    pub id: i64,
    /// The report it came with.
    pub report_id: i64,
    /// Its name, made safe when it was checked.
    pub file_name: String,
    /// The media type found from its bytes.
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// The SHA-256 of its content, in lowercase hex.
    pub sha256: String,
    /// When it was stored.
    pub received_at: DateTime<Utc>,
    /// Whether its content is a file of the data folder's `evidence/` named by its SHA-256
    /// (else, for files stored before, the database holds it).
    #[serde(skip)]
    pub in_file: bool,
}

/// What reports need from a database.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores a new report received at `at` (on the day `received_on`) under its tracking
    /// code's digest, with its evidence files, in one transaction (all or nothing); returns
    /// its id.
    #[allow(clippy::too_many_arguments)]
    async fn create_report(
        &self,
        report: &NewReport,
        evidence: &[NewEvidence],
        source: ReportSource,
        tracking_digest: &str,
        received_on: NaiveDate,
        taken_by: Option<&Actor>,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    /// A report's evidence files, in the order they came, without their content.
    async fn evidence(&self, report_id: i64) -> Result<Vec<EvidenceMeta>>;
    /// One evidence file of a report, with its content.
    async fn evidence_file(
        &self,
        report_id: i64,
        evidence_id: i64,
    ) -> Result<Option<(EvidenceMeta, Vec<u8>)>>;
    /// The bytes all evidence files take together.
    async fn evidence_bytes(&self) -> Result<i64>;
    /// A report by its tracking code's digest.
    async fn report_by_tracking(&self, digest: &str) -> Result<Option<Report>>;
    /// A report by id.
    async fn report(&self, id: i64) -> Result<Option<Report>>;
    /// Reports, newest first, optionally in one state.
    async fn reports(&self, state: Option<ReportState>) -> Result<Vec<Report>>;
    /// Moves a report one step if it is still in `from`, recording who, when and why;
    /// concluding sets the day and, when substantiated, the disciplinary action.
    #[allow(clippy::too_many_arguments)]
    async fn transition_report(
        &self,
        id: i64,
        from: ReportState,
        to: ReportState,
        actor: &Actor,
        reason: &str,
        action: Option<&str>,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Result<()>;
    /// A report's steps, oldest first.
    async fn report_events(&self, id: i64) -> Result<Vec<ReportEvent>>;
    /// Substantiated reports no round has counted yet, concluded on or before `through`.
    async fn uncounted_substantiated(&self, through: NaiveDate) -> Result<Vec<Uncounted>>;
}

fn source_str(s: ReportSource) -> &'static str {
    match s {
        ReportSource::Web => "web",
        ReportSource::Hotline => "hotline",
        ReportSource::Letter => "letter",
        ReportSource::Visit => "visit",
    }
}

fn report_from<DB: Dialect>(r: &DB::Row) -> Result<Report> {
    let source: String = r.try_get("source")?;
    let state: String = r.try_get("state")?;
    Ok(Report {
        id: r.try_get("id")?,
        unit_id: UnitId(r.try_get("unit_id")?),
        staff: r.try_get("staff")?,
        description: r.try_get("description")?,
        contact: r.try_get("contact")?,
        occurred_on: r.try_get("occurred_on")?,
        source: serde_json::from_value(serde_json::Value::String(source)).map_err(corrupt)?,
        state: state.parse().map_err(corrupt)?,
        received_on: r.try_get("received_on")?,
        concluded_on: r.try_get("concluded_on")?,
        counted_in: r.try_get::<Option<i64>, _>("counted_in")?.map(RoundId),
        disciplinary_action: r.try_get("disciplinary_action")?,
        taken_by: r
            .try_get::<Option<i64>, _>("taken_by")?
            .map(minping_domain::UserId),
    })
}

/// A foreign key pointing nowhere: the report (or unit) does not exist.
fn missing_parent(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StorageError::NotFound,
        _ => StorageError::Database(e),
    }
}

async fn insert_evidence<DB: Dialect>(
    conn: &mut DB::Connection,
    report_id: i64,
    evidence: &NewEvidence,
    at: DateTime<Utc>,
) -> Result<i64> {
    // The content is the caller's to keep, as a file named by its hash: the database keeps
    // what it is, so evidence never grows the database that ballots are written to.
    let bytes = evidence.bytes();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO report_evidence (report_id, file_name, content_type, size, sha256, content, received_at, in_file) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE) RETURNING id",
    )
    .bind(report_id)
    .bind(evidence.file_name())
    .bind(evidence.content_type())
    .bind(i64::try_from(bytes.len()).map_err(corrupt)?)
    .bind(hex::encode(Sha256::digest(bytes)))
    .bind(Vec::<u8>::new())
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .map_err(missing_parent)?;
    Ok(id)
}

const EVIDENCE_COLUMNS: &str =
    "id, report_id, file_name, content_type, size, sha256, received_at, in_file";

fn evidence_from<DB: Dialect>(r: &DB::Row) -> Result<EvidenceMeta> {
    Ok(EvidenceMeta {
        id: r.try_get("id")?,
        report_id: r.try_get("report_id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        received_at: r.try_get("received_at")?,
        in_file: r.try_get("in_file")?,
    })
}

const REPORT_SELECT: &str = "SELECT id, unit_id, staff, description, contact, occurred_on, source, state, \
     received_on, concluded_on, counted_in, disciplinary_action, taken_by FROM reports";

#[async_trait]
impl<DB: Dialect> ReportStore for Store<DB> {
    #[allow(clippy::too_many_arguments)]
    async fn create_report(
        &self,
        report: &NewReport,
        evidence: &[NewEvidence],
        source: ReportSource,
        tracking_digest: &str,
        received_on: NaiveDate,
        taken_by: Option<&Actor>,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reports (tracking_digest, unit_id, staff, description, contact, occurred_on, source, state, received_on, taken_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8, $9) RETURNING id",
        )
        .bind(tracking_digest)
        .bind(report.unit_id.0)
        .bind(report.staff.as_deref())
        .bind(&report.description)
        .bind(report.contact.as_deref())
        .bind(report.occurred_on)
        .bind(source_str(source))
        .bind(received_on)
        .bind(taken_by.and_then(|a| a.user_id).map(|u| u.0))
        .fetch_one(&mut *tx)
        .await
        .map_err(missing_parent)?;
        for file in evidence {
            insert_evidence::<DB>(&mut tx, id, file, at).await?;
        }
        if let Some(actor) = taken_by {
            // The reporter's contact stays with the report; the log names the report.
            let change = Change::new(
                "report.intake",
                format!("report:{id}"),
                json!({ "source": source_str(source), "unit_id": report.unit_id.0, "evidence": evidence.len() }),
            );
            record::<DB>(&mut tx, actor, at, &change).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn evidence(&self, report_id: i64) -> Result<Vec<EvidenceMeta>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVIDENCE_COLUMNS} FROM report_evidence WHERE report_id = $1 ORDER BY id"
        )))
        .bind(report_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(evidence_from::<DB>).collect()
    }

    async fn evidence_file(
        &self,
        report_id: i64,
        evidence_id: i64,
    ) -> Result<Option<(EvidenceMeta, Vec<u8>)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVIDENCE_COLUMNS}, content FROM report_evidence WHERE report_id = $1 AND id = $2"
        )))
        .bind(report_id)
        .bind(evidence_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((evidence_from::<DB>(&r)?, r.try_get("content")?)))
            .transpose()
    }

    async fn evidence_bytes(&self) -> Result<i64> {
        // SUM is a NUMERIC on PostgreSQL: cast to what both read back.
        let total: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(size) AS BIGINT) FROM report_evidence")
                .fetch_one(&self.pool)
                .await?;
        Ok(total.unwrap_or(0))
    }

    async fn report_by_tracking(&self, digest: &str) -> Result<Option<Report>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REPORT_SELECT} WHERE tracking_digest = $1"
        )))
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(report_from::<DB>).transpose()
    }

    async fn report(&self, id: i64) -> Result<Option<Report>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REPORT_SELECT} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(report_from::<DB>).transpose()
    }

    async fn reports(&self, state: Option<ReportState>) -> Result<Vec<Report>> {
        let rows = match state {
            Some(s) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{REPORT_SELECT} WHERE state = $1 ORDER BY id DESC"
                )))
                .bind(s.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{REPORT_SELECT} ORDER BY id DESC"
                )))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(report_from::<DB>).collect()
    }

    async fn transition_report(
        &self,
        id: i64,
        from: ReportState,
        to: ReportState,
        actor: &Actor,
        reason: &str,
        action: Option<&str>,
        at: DateTime<Utc>,
        on: NaiveDate,
    ) -> Result<()> {
        if !from.may_become(to) {
            return Err(StorageError::Conflict(format!(
                "a report cannot go from {from} to {to}"
            )));
        }
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let concluded = to.is_concluded();
        let done = sqlx::query(
            "UPDATE reports SET state = $1, concluded_on = $2, disciplinary_action = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(concluded.then_some(on))
        .bind(action)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let now: Option<String> = sqlx::query_scalar("SELECT state FROM reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match now {
                None => StorageError::NotFound,
                Some(s) => StorageError::Conflict(format!("the report is {s}, not {from}")),
            });
        }
        sqlx::query(
            "INSERT INTO report_events (report_id, from_state, to_state, user_id, actor, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(actor.user_id.map(|u| u.0))
        .bind(&actor.name)
        .bind(reason)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let change = Change::new(
            "report.step",
            format!("report:{id}"),
            json!({ "before": from.as_str(), "after": to.as_str(), "reason": reason, "action": action }),
        );
        record::<DB>(&mut tx, actor, at, &change).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn report_events(&self, id: i64) -> Result<Vec<ReportEvent>> {
        let rows = sqlx::query(
            "SELECT from_state, to_state, user_id, actor, reason, at FROM report_events WHERE report_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let from: String = r.try_get("from_state")?;
                let to: String = r.try_get("to_state")?;
                Ok(ReportEvent {
                    from: from.parse().map_err(corrupt)?,
                    to: to.parse().map_err(corrupt)?,
                    actor: r.try_get("actor")?,
                    user_id: r
                        .try_get::<Option<i64>, _>("user_id")?
                        .map(minping_domain::UserId),
                    reason: r.try_get("reason")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn uncounted_substantiated(&self, through: NaiveDate) -> Result<Vec<Uncounted>> {
        let rows = sqlx::query(
            "SELECT id, unit_id, concluded_on FROM reports WHERE state = 'substantiated' \
             AND counted_in IS NULL AND concluded_on <= $1 ORDER BY id",
        )
        .bind(through)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Uncounted {
                    id: r.try_get("id")?,
                    unit_id: UnitId(r.try_get("unit_id")?),
                    concluded_on: r.try_get("concluded_on")?,
                })
            })
            .collect()
    }
}

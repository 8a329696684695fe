//! The reports' queries, shared by both backends like [`crate::sql`].

/// Implements [`crate::ReportStore`] for `$store` over `$db`.
macro_rules! impl_report_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use crate::{
                Actor, Result, StorageError,
                report::{EvidenceMeta, Report, ReportEvent, ReportStore},
            };
            use async_trait::async_trait;
            use chrono::{DateTime, NaiveDate, Utc};
            use minping_domain::{
                UnitId,
                report::{NewEvidence, NewReport, ReportSource, ReportState},
            };
            use sha2::{Digest, Sha256};
            use sqlx::Row;

            type DbRow = <$db as sqlx::Database>::Row;

            fn corrupt(what: impl std::fmt::Display) -> StorageError {
                StorageError::Corrupt(what.to_string())
            }

            fn source_str(s: ReportSource) -> &'static str {
                match s {
                    ReportSource::Web => "web",
                    ReportSource::Hotline => "hotline",
                    ReportSource::Letter => "letter",
                    ReportSource::Visit => "visit",
                }
            }

            fn report_from(r: &DbRow) -> Result<Report> {
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
                    disciplinary_action: r.try_get("disciplinary_action")?,
                })
            }

            /// A foreign key pointing nowhere: the report (or unit) does not exist.
            fn missing_parent(e: sqlx::Error) -> StorageError {
                match &e {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => StorageError::NotFound,
                    _ => StorageError::Database(e),
                }
            }

            async fn insert_evidence(
                conn: &mut <$db as sqlx::Database>::Connection,
                report_id: i64,
                evidence: &NewEvidence,
                at: DateTime<Utc>,
            ) -> Result<i64> {
                let bytes = evidence.bytes();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO report_evidence (report_id, file_name, content_type, size, sha256, content, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(report_id)
                .bind(evidence.file_name())
                .bind(evidence.content_type())
                .bind(i64::try_from(bytes.len()).map_err(corrupt)?)
                .bind(hex::encode(Sha256::digest(bytes)))
                .bind(bytes)
                .bind(at)
                .fetch_one(&mut *conn)
                .await
                .map_err(missing_parent)?;
                Ok(id)
            }

            const EVIDENCE_COLUMNS: &str = "id, report_id, file_name, content_type, size, sha256, received_at";

            fn evidence_from(r: &DbRow) -> Result<EvidenceMeta> {
                Ok(EvidenceMeta {
                    id: r.try_get("id")?,
                    report_id: r.try_get("report_id")?,
                    file_name: r.try_get("file_name")?,
                    content_type: r.try_get("content_type")?,
                    size: r.try_get("size")?,
                    sha256: r.try_get("sha256")?,
                    received_at: r.try_get("received_at")?,
                })
            }

            const REPORT_SELECT: &str = "SELECT id, unit_id, staff, description, contact, occurred_on, source, state, \
                 received_on, concluded_on, disciplinary_action FROM reports";

            #[async_trait]
            impl ReportStore for $store {
                async fn create_report(
                    &self,
                    report: &NewReport,
                    evidence: &[NewEvidence],
                    source: ReportSource,
                    tracking_digest: &str,
                    received_on: NaiveDate,
                ) -> Result<i64> {
                    let mut tx = self.pool.begin_with(<$db as crate::dialect::Dialect>::BEGIN_WRITE).await?;
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO reports (tracking_digest, unit_id, staff, description, contact, occurred_on, source, state, received_on) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8) RETURNING id",
                    )
                    .bind(tracking_digest)
                    .bind(report.unit_id.0)
                    .bind(report.staff.as_deref())
                    .bind(&report.description)
                    .bind(report.contact.as_deref())
                    .bind(report.occurred_on)
                    .bind(source_str(source))
                    .bind(received_on)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(missing_parent)?;
                    let at = Utc::now();
                    for file in evidence {
                        insert_evidence(&mut tx, id, file, at).await?;
                    }
                    tx.commit().await?;
                    Ok(id)
                }

                async fn add_evidence(&self, report_id: i64, evidence: &NewEvidence) -> Result<i64> {
                    let mut conn = self.pool.acquire().await?;
                    insert_evidence(&mut conn, report_id, evidence, Utc::now()).await
                }

                async fn evidence(&self, report_id: i64) -> Result<Vec<EvidenceMeta>> {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {EVIDENCE_COLUMNS} FROM report_evidence WHERE report_id = $1 ORDER BY id"
                    )))
                        .bind(report_id)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(evidence_from).collect()
                }

                async fn evidence_file(&self, report_id: i64, evidence_id: i64) -> Result<Option<(EvidenceMeta, Vec<u8>)>> {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {EVIDENCE_COLUMNS}, content FROM report_evidence WHERE report_id = $1 AND id = $2"
                    )))
                    .bind(report_id)
                    .bind(evidence_id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|r| Ok((evidence_from(&r)?, r.try_get("content")?))).transpose()
                }

                async fn report_by_tracking(&self, digest: &str) -> Result<Option<Report>> {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{REPORT_SELECT} WHERE tracking_digest = $1")))
                        .bind(digest)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(report_from).transpose()
                }

                async fn report(&self, id: i64) -> Result<Option<Report>> {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{REPORT_SELECT} WHERE id = $1")))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(report_from).transpose()
                }

                async fn reports(&self, state: Option<ReportState>) -> Result<Vec<Report>> {
                    let rows = match state {
                        Some(s) => {
                            sqlx::query(sqlx::AssertSqlSafe(format!("{REPORT_SELECT} WHERE state = $1 ORDER BY id DESC")))
                                .bind(s.as_str())
                                .fetch_all(&self.pool)
                                .await?
                        }
                        None => {
                            sqlx::query(sqlx::AssertSqlSafe(format!("{REPORT_SELECT} ORDER BY id DESC")))
                                .fetch_all(&self.pool)
                                .await?
                        }
                    };
                    rows.iter().map(report_from).collect()
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
                        return Err(StorageError::Conflict(format!("a report cannot go from {from} to {to}")));
                    }
                    let mut tx = self.pool.begin_with(<$db as crate::dialect::Dialect>::BEGIN_WRITE).await?;
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
                    tx.commit().await?;
                    Ok(())
                }

                async fn report_events(&self, id: i64) -> Result<Vec<ReportEvent>> {
                    let rows = sqlx::query(
                        "SELECT from_state, to_state, actor, reason, at FROM report_events WHERE report_id = $1 ORDER BY id",
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
                                reason: r.try_get("reason")?,
                                at: r.try_get("at")?,
                            })
                        })
                        .collect()
                }

                async fn substantiated_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(UnitId, NaiveDate)>> {
                    let rows = sqlx::query(
                        "SELECT unit_id, concluded_on FROM reports WHERE state = 'substantiated' \
                         AND concluded_on >= $1 AND concluded_on <= $2 ORDER BY id",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| Ok((UnitId(r.try_get("unit_id")?), r.try_get("concluded_on")?)))
                        .collect()
                }
            }
        };
    };
}

pub(crate) use impl_report_store;

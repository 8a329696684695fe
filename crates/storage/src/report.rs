//! What reports (举报) need from storage.

use crate::{Actor, Result};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    UnitId,
    report::{NewEvidence, NewReport, ReportSource, ReportState},
};
use serde::Serialize;

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
    /// The disciplinary action recorded for a substantiated report.
    pub disciplinary_action: Option<String>,
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
}

/// What reports need from a database.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores a new report under its tracking code's digest, with its evidence files, in
    /// one transaction (all or nothing); returns its id.
    async fn create_report(
        &self,
        report: &NewReport,
        evidence: &[NewEvidence],
        source: ReportSource,
        tracking_digest: &str,
        received_on: NaiveDate,
    ) -> Result<i64>;
    /// Adds an evidence file to a stored report; returns its id.
    async fn add_evidence(&self, report_id: i64, evidence: &NewEvidence) -> Result<i64>;
    /// A report's evidence files, in the order they came, without their content.
    async fn evidence(&self, report_id: i64) -> Result<Vec<EvidenceMeta>>;
    /// One evidence file of a report, with its content.
    async fn evidence_file(
        &self,
        report_id: i64,
        evidence_id: i64,
    ) -> Result<Option<(EvidenceMeta, Vec<u8>)>>;
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
    /// Substantiated reports concluded between two days (both included), as
    /// (unit, day concluded).
    async fn substantiated_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(UnitId, NaiveDate)>>;
}

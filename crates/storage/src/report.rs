//! What reports (举报) need from storage.

use crate::{Actor, Result};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    UnitId,
    report::{NewReport, ReportSource, ReportState},
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

/// What reports need from a database.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores a new report under its tracking code's digest; returns its id.
    async fn create_report(
        &self,
        report: &NewReport,
        source: ReportSource,
        tracking_digest: &str,
        received_on: NaiveDate,
    ) -> Result<i64>;
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

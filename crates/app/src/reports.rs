//! Reports (举报): public intake with a tracking code, staff intake of hotline, letter and
//! visit reports, and the investigators' workflow. Reporters follow the status only, never
//! the internal notes; unit users never see reports.

use crate::{
    App,
    error::{ErrorKind, NameError, WorkflowError, checked_name},
};
use chrono::NaiveDate;
use minping_domain::{
    code::OneTimeCode,
    report::{self, NewEvidence, NewReport, ReportDraft, ReportSource, ReportState},
};
use minping_storage::{Actor, EvidenceMeta, StorageError};
use serde::Serialize;
use utoipa::ToSchema;

/// Why a report or a step was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No such report (or tracking code).
    #[error("not found")]
    NotFound,
    /// The report or its evidence is wrong.
    #[error("{0}")]
    Invalid(#[from] report::ReportError),
    /// A staff intake source that is not one.
    #[error("source must be hotline, letter or visit")]
    UnknownSource,
    /// A state name that does not exist.
    #[error("unknown report state `{0}`")]
    UnknownState(String),
    /// The reason is missing or too long.
    #[error(transparent)]
    Reason(#[from] NameError),
    /// Substantiating without the disciplinary action.
    #[error("record the disciplinary action taken for a substantiated report")]
    ActionRequired,
    /// This client has sent as much evidence as it may this hour.
    #[error(
        "you have sent as much evidence as one address may in an hour; send the report without files, or try later"
    )]
    EvidenceQuota,
    /// There is no room for the evidence files now (see [`crate::evidence`]).
    #[error("there is no room for more evidence now; send the report without files, or try later")]
    EvidenceFull,
    /// The one substantiating took the report in or opened it: a second person decides.
    #[error("a report is substantiated by someone other than who took it in or opened it")]
    SecondPersonRequired,
    /// The workflow does not allow this step.
    #[error("a {from} report cannot become {to}")]
    InvalidTransition {
        /// The report's state.
        from: ReportState,
        /// The state asked for.
        to: ReportState,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for ReportError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ReportError::NotFound,
            e => ReportError::Storage(e),
        }
    }
}

impl WorkflowError for ReportError {
    fn code(&self) -> &'static str {
        match self {
            ReportError::NotFound => "not_found",
            ReportError::Invalid(e) => e.code(),
            ReportError::UnknownSource => "unknown_source",
            ReportError::UnknownState(_) => "unknown_state",
            ReportError::Reason(e) => e.code(),
            ReportError::ActionRequired => "action_required",
            ReportError::SecondPersonRequired => "second_person_required",
            ReportError::EvidenceFull => "evidence_full",
            ReportError::EvidenceQuota => "evidence_quota",
            ReportError::InvalidTransition { .. } => "invalid_transition",
            ReportError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            ReportError::NotFound => ErrorKind::NotFound,
            ReportError::Invalid(_)
            | ReportError::UnknownSource
            | ReportError::UnknownState(_)
            | ReportError::Reason(_)
            | ReportError::ActionRequired
            | ReportError::EvidenceFull
            | ReportError::EvidenceQuota => ErrorKind::Invalid,
            ReportError::InvalidTransition { .. } | ReportError::SecondPersonRequired => {
                ErrorKind::Conflict
            }
            ReportError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ReportError::Invalid(e) => Some(e.field().into()),
            ReportError::UnknownSource => Some("source".into()),
            ReportError::UnknownState(_) | ReportError::InvalidTransition { .. } => {
                Some("to".into())
            }
            ReportError::Reason(e) => e.field(),
            ReportError::ActionRequired => Some("action".into()),
            ReportError::EvidenceFull | ReportError::EvidenceQuota => Some("evidence".into()),
            _ => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            ReportError::Invalid(e) => e
                .file_name()
                .map(|f| vec![("file", f.to_string())])
                .unwrap_or_default(),
            ReportError::UnknownState(s) => vec![("state", s.clone())],
            ReportError::InvalidTransition { from, to } => {
                vec![("from", from.to_string()), ("to", to.to_string())]
            }
            ReportError::Storage(e) => e.params(),
            _ => Vec::new(),
        }
    }
}

/// A report taken in: its tracking code (for the reporter) and id.
#[derive(Debug, Clone)]
pub struct Filed {
    /// The code the reporter follows the report with, as printed.
    pub tracking_code: String,
    /// The report's id.
    pub id: i64,
}

/// A staff intake source as typed: `hotline`, `letter` or `visit`.
pub fn staff_source(typed: &str) -> Result<ReportSource, ReportError> {
    match typed.trim() {
        "hotline" => Ok(ReportSource::Hotline),
        "letter" => Ok(ReportSource::Letter),
        "visit" => Ok(ReportSource::Visit),
        _ => Err(ReportError::UnknownSource),
    }
}

/// Checks and stores a report from any channel with its checked evidence files, all in one
/// transaction; `taken_by` is the staff member who keys in a hotline, letter or visit
/// report (none for the public's own).
pub async fn file(
    app: &App,
    draft: ReportDraft,
    evidence: &[NewEvidence],
    source: ReportSource,
    taken_by: Option<&Actor>,
) -> Result<Filed, ReportError> {
    let units = app.evaluated_units().await?;
    let report: NewReport = draft.parse(app.today(), |u| units.contains(&u))?;
    keep_evidence(app, evidence).await?;
    let code = OneTimeCode::generate(&mut rand::thread_rng());
    let id = app
        .store()
        .create_report(
            &report,
            evidence,
            source,
            &code.digest(app.code_key()),
            app.today(),
            taken_by,
            app.now(),
        )
        .await?;
    Ok(Filed {
        tracking_code: code.printed(),
        id,
    })
}

/// Writes evidence files to the evidence folder if there is room for them (a file written
/// for a report that then fails to store stays, unreferenced and harmless: the next report
/// with the same content finds it).
async fn keep_evidence(app: &App, evidence: &[NewEvidence]) -> Result<(), ReportError> {
    let adding: u64 = evidence.iter().map(|e| e.bytes().len() as u64).sum();
    if adding == 0 {
        return Ok(());
    }
    let stored = u64::try_from(app.store().evidence_bytes().await?).unwrap_or(0);
    let files = app.evidence().clone();
    let evidence = evidence.to_vec();
    tokio::task::spawn_blocking(move || {
        files.room_for(stored, adding)?;
        files.keep(&evidence)
    })
    .await
    .map_err(|e| ReportError::Storage(StorageError::Corrupt(e.to_string())))?
    .map_err(|e| match e {
        crate::evidence::EvidenceError::Full => ReportError::EvidenceFull,
        crate::evidence::EvidenceError::Io(io) => ReportError::Storage(StorageError::Corrupt(
            format!("evidence file could not be written: {io}"),
        )),
    })
}

/// What a reporter may see: the status and its dates, no internal notes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportStatus {
    /// `received`, `investigating`, `substantiated` or `unsubstantiated`.
    pub status: String,
    /// When it was received.
    pub received_on: NaiveDate,
    /// When it was concluded.
    pub concluded_on: Option<NaiveDate>,
    /// The steps taken, as (status, day).
    pub history: Vec<(String, NaiveDate)>,
}

/// A report's status for its reporter, by tracking code.
pub async fn status(app: &App, tracking_code: &str) -> Result<ReportStatus, ReportError> {
    let code = OneTimeCode::parse(tracking_code).map_err(|_| ReportError::NotFound)?;
    let report = app
        .store()
        .report_by_tracking(&code.digest(app.code_key()))
        .await?
        .ok_or(ReportError::NotFound)?;
    let history = app
        .store()
        .report_events(report.id)
        .await?
        .into_iter()
        .map(|e| (e.to.to_string(), app.day_of(e.at)))
        .collect();
    Ok(ReportStatus {
        status: report.state.to_string(),
        received_on: report.received_on,
        concluded_on: report.concluded_on,
        history,
    })
}

/// Moves a report one step, recording who, when and why; substantiating needs the
/// disciplinary action.
pub async fn step(
    app: &App,
    id: i64,
    to: &str,
    reason: &str,
    action: Option<&str>,
    actor: &Actor,
) -> Result<ReportState, ReportError> {
    let to: ReportState = to
        .parse()
        .map_err(|_| ReportError::UnknownState(to.into()))?;
    let reason = checked_name("reason", reason)?;
    let action = action.map(str::trim).filter(|a| !a.is_empty());
    if to == ReportState::Substantiated && action.is_none() {
        return Err(ReportError::ActionRequired);
    }
    let report = app.store().report(id).await?.ok_or(ReportError::NotFound)?;
    if !report.state.may_become(to) {
        return Err(ReportError::InvalidTransition {
            from: report.state,
            to,
        });
    }
    if to == ReportState::Substantiated && had_a_hand(app, &report, actor).await? {
        return Err(ReportError::SecondPersonRequired);
    }
    app.store()
        .transition_report(
            id,
            report.state,
            to,
            actor,
            &reason,
            action,
            app.now(),
            app.today(),
        )
        .await?;
    Ok(to)
}

/// Whether `actor` took the report in or moved it before: substantiating a report puts its
/// unit at rank 1, so it takes a second person. (The workflow's order makes this check
/// sound: a report is opened, in a committed step, before it can be substantiated.)
async fn had_a_hand(
    app: &App,
    report: &minping_storage::Report,
    actor: &Actor,
) -> Result<bool, ReportError> {
    // Someone who is no account (the command line, the system) cannot be told apart from
    // who took the report in: they do not substantiate.
    let Some(me) = actor.user_id else {
        return Ok(true);
    };
    if report.taken_by == Some(me) {
        return Ok(true);
    }
    Ok(app
        .store()
        .report_events(report.id)
        .await?
        .iter()
        .any(|e| e.user_id == Some(me)))
}

/// One evidence file of a report, with what it is.
pub async fn evidence_file(
    app: &App,
    report: i64,
    evidence: i64,
) -> Result<(EvidenceMeta, Vec<u8>), ReportError> {
    let (meta, bytes) = app
        .store()
        .evidence_file(report, evidence)
        .await?
        .ok_or(ReportError::NotFound)?;
    if !meta.in_file {
        return Ok((meta, bytes));
    }
    let files = app.evidence().clone();
    let sha = meta.sha256.clone();
    let read = tokio::task::spawn_blocking(move || files.read(&sha))
        .await
        .map_err(|e| ReportError::Storage(StorageError::Corrupt(e.to_string())))?;
    match read {
        Ok(Some(bytes)) => Ok((meta, bytes)),
        Ok(None) => Err(ReportError::Storage(StorageError::Corrupt(format!(
            "evidence file {} is missing or altered",
            meta.sha256
        )))),
        Err(e) => Err(ReportError::Storage(StorageError::Corrupt(e.to_string()))),
    }
}

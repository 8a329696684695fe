//! Reports (举报): public intake with a tracking code, staff intake, and the investigators'
//! workflow. Reporters follow the status only; unit users never see reports.

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, role_bit},
    error::ApiError,
    state::{AppState, Shared},
};
use axum::{Json, extract::State, http::StatusCode};
use chrono::{NaiveDate, Utc};
use minping_domain::{
    Role,
    code::OneTimeCode,
    report::{NewEvidence, NewReport, ReportDraft, ReportSource, ReportState},
};
use minping_storage::Report;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Investigators handle reports; the organizer may read them.
const INVESTIGATOR: u8 = role_bit(Role::Investigator);
const INVESTIGATOR_OR_ORGANIZER: u8 = role_bit(Role::Investigator) | role_bit(Role::Organizer);

/// A report as sent.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The unit reported.
    pub unit_id: i64,
    /// What happened (10–5000 characters).
    pub description: String,
    /// Named staff, if any.
    #[serde(default)]
    pub staff: Option<String>,
    /// How to reach you, if you want to be reached; leave out to stay anonymous.
    #[serde(default)]
    pub contact: Option<String>,
    /// When it happened (YYYY-MM-DD).
    #[serde(default)]
    pub occurred_on: Option<NaiveDate>,
}

/// The reporter's tracking code.
#[derive(Serialize, ToSchema)]
pub struct TrackingBody {
    /// Keep it to follow the report's status.
    pub tracking_code: String,
}

/// Checks and stores a report from any channel with its checked evidence files, all in one
/// transaction; returns its tracking code and id.
pub(crate) async fn intake(
    state: &AppState,
    body: ReportBody,
    evidence: &[NewEvidence],
    source: ReportSource,
) -> Result<(String, i64), ApiError> {
    let units = state.evaluated_units().await?;
    let draft = ReportDraft {
        unit_id: body.unit_id,
        description: body.description,
        staff: body.staff,
        contact: body.contact,
        occurred_on: body.occurred_on,
    };
    let report: NewReport = draft
        .parse(state.today(), |u| units.contains(&u))
        .map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
                .with_field(e.field())
        })?;
    let code = OneTimeCode::generate(&mut rand::thread_rng());
    let id = state
        .store
        .create_report(
            &report,
            evidence,
            source,
            &code.digest(&state.code_key),
            state.today(),
        )
        .await?;
    Ok((code.printed(), id))
}

/// Files a report (public, anonymous unless a contact is given).
#[utoipa::path(post, path = "/api/v1/reports", request_body = ReportBody,
    responses((status = 201, body = TrackingBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<Shared>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<(StatusCode, Json<TrackingBody>), ApiError> {
    let (tracking_code, _) = intake(&state, body, &[], ReportSource::Web).await?;
    Ok((StatusCode::CREATED, Json(TrackingBody { tracking_code })))
}

/// A report taken by phone, letter or visit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffIntake {
    /// `hotline`, `letter` or `visit`.
    pub source: String,
    /// The unit reported.
    pub unit_id: i64,
    /// What happened (10–5000 characters).
    pub description: String,
    /// Named staff, if any.
    #[serde(default)]
    pub staff: Option<String>,
    /// How to reach the reporter, if they want to be reached.
    #[serde(default)]
    pub contact: Option<String>,
    /// When it happened (YYYY-MM-DD).
    #[serde(default)]
    pub occurred_on: Option<NaiveDate>,
}

/// Keys in a report received by hotline, letter or visit (investigator, organizer).
#[utoipa::path(post, path = "/api/v1/reports/intake", security(("token" = [])), request_body = StaffIntake,
    responses((status = 201, body = TrackingBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn staff_intake(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    ApiJson(body): ApiJson<StaffIntake>,
) -> Result<(StatusCode, Json<TrackingBody>), ApiError> {
    let source = match body.source.as_str() {
        "hotline" => ReportSource::Hotline,
        "letter" => ReportSource::Letter,
        "visit" => ReportSource::Visit,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_source",
                "source must be hotline, letter or visit",
            )
            .with_field("source"));
        }
    };
    let report = ReportBody {
        unit_id: body.unit_id,
        description: body.description,
        staff: body.staff,
        contact: body.contact,
        occurred_on: body.occurred_on,
    };
    let (tracking_code, _) = intake(&state, report, &[], source).await?;
    Ok((StatusCode::CREATED, Json(TrackingBody { tracking_code })))
}

/// What a reporter may see: the status and its dates, no internal notes.
#[derive(Serialize, ToSchema)]
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

/// A report's status for its reporter (public, by tracking code).
#[utoipa::path(get, path = "/api/v1/reports/{tracking_code}", params(("tracking_code" = String, Path, description = "tracking code")),
    responses((status = 200, body = ReportStatus), (status = 404, body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<Shared>,
    ApiPath(tracking_code): ApiPath<String>,
) -> Result<Json<ReportStatus>, ApiError> {
    let code = OneTimeCode::parse(&tracking_code).map_err(|_| ApiError::not_found())?;
    let report = state
        .store
        .report_by_tracking(&code.digest(&state.code_key))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let tz = state.settings.tz();
    let history = state
        .store
        .report_events(report.id)
        .await?
        .into_iter()
        .map(|e| (e.to.to_string(), e.at.with_timezone(&tz).date_naive()))
        .collect();
    Ok(Json(ReportStatus {
        status: report.state.to_string(),
        received_on: report.received_on,
        concluded_on: report.concluded_on,
        history,
    }))
}

/// Every report, newest first (investigator, organizer).
#[utoipa::path(get, path = "/api/v1/reports", security(("token" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
) -> Result<Json<Vec<Report>>, ApiError> {
    Ok(Json(state.store.reports(None).await?))
}

/// A workflow step.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportTransition {
    /// `investigating`, `substantiated` or `unsubstantiated`.
    pub to: String,
    /// Why (kept internal).
    pub reason: String,
    /// For `substantiated`: the disciplinary action taken.
    #[serde(default)]
    pub action: Option<String>,
}

/// Moves a report one step (investigator). Substantiating it needs the disciplinary action.
#[utoipa::path(post, path = "/api/v1/reports/{id}/transition", security(("token" = [])), request_body = ReportTransition,
    params(("id" = i64, Path, description = "report id")),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn transition(
    State(state): State<Shared>,
    who: Authorized<INVESTIGATOR>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReportTransition>,
) -> Result<StatusCode, ApiError> {
    move_report(&state, id, &body, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a report one step, recording who, when and why; substantiating needs the
/// disciplinary action. Shared by the API and the console.
pub(crate) async fn move_report(
    state: &AppState,
    id: i64,
    body: &ReportTransition,
    actor: &minping_storage::Actor,
) -> Result<(), ApiError> {
    let to: ReportState = body.to.parse().map_err(|m: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_state", m).with_field("to")
    })?;
    let reason = super::name("reason", &body.reason)?;
    let action = body
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if to == ReportState::Substantiated && action.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "action_required",
            "record the disciplinary action taken for a substantiated report",
        )
        .with_field("action"));
    }
    let report = state
        .store
        .report(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !report.state.may_become(to) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            format!("a {} report cannot become {to}", report.state),
        )
        .with_field("to"));
    }
    state
        .store
        .transition_report(
            id,
            report.state,
            to,
            actor,
            &reason,
            action,
            Utc::now(),
            state.today(),
        )
        .await?;
    Ok(())
}

//! Reports (举报): public intake with a tracking code, staff intake, and the investigators'
//! workflow. Reporters follow the status only; unit users never see reports.

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, role_bit},
    error::ApiError,
    state::Shared,
};
use axum::response::Response;
use axum::{Json, extract::State, http::StatusCode};
use chrono::NaiveDate;
use minping_app::reports::{self, ReportStatus};
use minping_domain::{
    Role,
    report::{ReportDraft, ReportSource},
};
use minping_storage::{EvidenceMeta, Report};
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

impl From<ReportBody> for ReportDraft {
    fn from(b: ReportBody) -> Self {
        ReportDraft {
            unit_id: b.unit_id,
            description: b.description,
            staff: b.staff,
            contact: b.contact,
            occurred_on: b.occurred_on,
        }
    }
}

/// The reporter's tracking code.
#[derive(Serialize, ToSchema)]
pub struct TrackingBody {
    /// Keep it to follow the report's status.
    pub tracking_code: String,
}

/// Files a report (public, anonymous unless a contact is given).
#[utoipa::path(post, path = "/api/v1/reports", request_body = ReportBody,
    responses((status = 201, body = TrackingBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<Shared>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<(StatusCode, Json<TrackingBody>), ApiError> {
    let filed = reports::file(&state, body.into(), &[], ReportSource::Web, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(TrackingBody {
            tracking_code: filed.tracking_code,
        }),
    ))
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
    who: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    ApiJson(body): ApiJson<StaffIntake>,
) -> Result<(StatusCode, Json<TrackingBody>), ApiError> {
    let source = reports::staff_source(&body.source)?;
    let draft = ReportDraft {
        unit_id: body.unit_id,
        description: body.description,
        staff: body.staff,
        contact: body.contact,
        occurred_on: body.occurred_on,
    };
    let filed = reports::file(&state, draft, &[], source, Some(&who.actor())).await?;
    Ok((
        StatusCode::CREATED,
        Json(TrackingBody {
            tracking_code: filed.tracking_code,
        }),
    ))
}

/// A report's status for its reporter (public, by tracking code).
#[utoipa::path(get, path = "/api/v1/reports/{tracking_code}", params(("tracking_code" = String, Path, description = "tracking code")),
    responses((status = 200, body = ReportStatus), (status = 404, body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<Shared>,
    ApiPath(tracking_code): ApiPath<String>,
) -> Result<Json<ReportStatus>, ApiError> {
    Ok(Json(reports::status(&state, &tracking_code).await?))
}

/// Every report, newest first (investigator, organizer).
#[utoipa::path(get, path = "/api/v1/reports", security(("token" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
) -> Result<Json<Vec<Report>>, ApiError> {
    Ok(Json(state.store().reports(None).await?))
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
    reports::step(
        &state,
        id,
        &body.to,
        &body.reason,
        body.action.as_deref(),
        &who.actor(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A report's evidence files, without their content (investigator, organizer).
#[utoipa::path(get, path = "/api/v1/reports/{id}/evidence", security(("token" = [])),
    params(("id" = i64, Path, description = "report id")),
    responses((status = 200, body = Vec<Object>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn evidence(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<EvidenceMeta>>, ApiError> {
    state
        .store()
        .report(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(state.store().evidence(id).await?))
}

/// One evidence file of a report, as a download of the type its bytes show (investigator,
/// organizer).
#[utoipa::path(get, path = "/api/v1/reports/{id}/evidence/{evidence_id}", security(("token" = [])),
    params(("id" = i64, Path, description = "report id"), ("evidence_id" = i64, Path, description = "evidence file id")),
    responses((status = 200, description = "the file", body = Vec<u8>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn evidence_file(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    ApiPath((id, evidence_id)): ApiPath<(i64, i64)>,
) -> Result<Response, ApiError> {
    let (meta, content) = reports::evidence_file(&state, id, evidence_id).await?;
    Ok(crate::download::evidence(&meta, content))
}

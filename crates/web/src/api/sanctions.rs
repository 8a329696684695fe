//! Sanctions proposed when a round is finalized, their review, and the promotion calendar.

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, ORGANIZER, ORGANIZER_OR_LEADER},
    error::ApiError,
    state::Shared,
};
use axum::http::StatusCode;
use axum::{
    Json,
    extract::{Query, State},
};
use chrono::NaiveDate;
use minping_app::{
    accountability::{self, Frozen},
    notice,
};
use minping_domain::{PersonId, RoundId, rules::PromotionAnswer};
use minping_storage::{PromotionCheck, Sanction};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A sanction as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct SanctionBody {
    /// Id.
    pub id: i64,
    /// Who.
    pub person_id: i64,
    /// For which unit.
    pub unit_id: i64,
    /// `reminder_talk`, `interview`, `promotion_freeze`, `head_removed`, `leader_removed` or `assessment_deduction`.
    pub kind: String,
    /// The rule that proposed it.
    pub rule: String,
    /// The rounds that triggered it.
    pub rounds: Vec<String>,
    /// `proposed`, `confirmed` or `rejected`.
    pub state: String,
    /// In effect from.
    pub from: NaiveDate,
    /// Last day of a freeze.
    pub until: Option<NaiveDate>,
    /// Points deducted.
    pub points: Option<f64>,
    /// Why, in Chinese.
    pub reason: String,
    /// Who confirmed or rejected it.
    pub decided_by: Option<String>,
    /// Their reason.
    pub decision_reason: Option<String>,
    /// The decision document a confirmation rests on.
    pub decision_ref: Option<String>,
}

impl From<Sanction> for SanctionBody {
    fn from(s: Sanction) -> Self {
        Self {
            id: s.id,
            person_id: s.proposal.person_id.0,
            unit_id: s.proposal.unit_id.0,
            kind: s.proposal.kind.as_str().into(),
            rule: s.proposal.rule,
            rounds: s.proposal.rounds.iter().map(|r| r.to_string()).collect(),
            state: s.state.as_str().into(),
            from: s.proposal.from,
            until: s.proposal.until,
            points: s.proposal.points,
            reason: s.proposal.reason_zh,
            decided_by: s.decided_by,
            decision_reason: s.decision_reason,
            decision_ref: s.decision_ref,
        }
    }
}

/// The sanctions a round's finalization proposed, with their review state (organizer, leader).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/sanctions", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), responses((status = 200, body = Vec<SanctionBody>)))]
pub async fn list(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<SanctionBody>>, ApiError> {
    state.round(RoundId(id)).await?;
    Ok(Json(
        state
            .store()
            .sanctions(RoundId(id))
            .await?
            .into_iter()
            .map(SanctionBody::from)
            .collect(),
    ))
}

/// A decision on a proposed sanction.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// True confirms (and records that it was executed), false rejects.
    pub confirm: bool,
    /// Why.
    pub reason: String,
    /// The decision document a confirmation rests on (e.g. the 区委常委会 meeting's
    /// minutes); required to confirm.
    #[serde(default)]
    pub decision_ref: Option<String>,
}

/// Confirms or rejects a proposed sanction (organizer).
#[utoipa::path(post, path = "/api/v1/sanctions/{id}/decision", security(("token" = [])), request_body = Decision,
    params(("id" = i64, Path, description = "sanction id")),
    responses((status = 200, body = SanctionBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<SanctionBody>, ApiError> {
    let s = accountability::decide(
        &state,
        id,
        body.confirm,
        &body.reason,
        body.decision_ref.as_deref(),
        &who.actor(),
    )
    .await?;
    Ok(Json(s.into()))
}

/// The day to ask about.
#[derive(Deserialize, ToSchema)]
pub struct On {
    /// YYYY-MM-DD; today when absent.
    #[serde(default)]
    pub on: Option<NaiveDate>,
}

/// May this person be promoted on that day? With every reason (organizer, leader).
#[utoipa::path(get, path = "/api/v1/people/{id}/promotion", security(("token" = [])),
    params(("id" = i64, Path, description = "person id"), ("on" = Option<String>, Query, description = "YYYY-MM-DD")),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)))]
pub async fn promotion(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    ApiPath(id): ApiPath<i64>,
    query: Result<Query<On>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PromotionAnswer>, ApiError> {
    let Query(on) = query?;
    let day = on.on.unwrap_or_else(|| state.today());
    Ok(Json(
        accountability::promotion(&state, PersonId(id), day).await?,
    ))
}

/// Everyone whose promotion is frozen on a day (today when absent), with the round, rule
/// and last day of each freeze (organizer, leader).
#[utoipa::path(get, path = "/api/v1/promotion/frozen", security(("token" = [])),
    params(("on" = Option<String>, Query, description = "YYYY-MM-DD")),
    responses((status = 200, body = Vec<Frozen>)))]
pub async fn frozen(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    query: Result<Query<On>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Frozen>>, ApiError> {
    let Query(on) = query?;
    let day = on.on.unwrap_or_else(|| state.today());
    Ok(Json(accountability::frozen_on(&state, day).await?))
}

/// A person up for promotion, to check.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionCheckRequest {
    /// The day the promotion would take effect (YYYY-MM-DD); today when absent.
    #[serde(default)]
    pub on: Option<NaiveDate>,
    /// The post proposed (拟任职务), 1–100 characters.
    pub note: String,
}

/// A recorded promotion check.
#[derive(Serialize, ToSchema)]
pub struct PromotionCheckBody {
    /// Id.
    pub id: i64,
    /// Who was checked.
    pub person_id: i64,
    /// The day asked about.
    pub on: NaiveDate,
    /// The answer, with every reason it is refused.
    #[schema(value_type = Object)]
    pub answer: PromotionAnswer,
    /// The post proposed.
    pub note: String,
    /// Who recorded it.
    pub checked_by: String,
}

impl From<PromotionCheck> for PromotionCheckBody {
    fn from(c: PromotionCheck) -> Self {
        Self {
            id: c.id,
            person_id: c.person_id.0,
            on: c.on,
            answer: c.answer,
            note: c.note,
            checked_by: c.checked_by,
        }
    }
}

/// Records that a person is up for promotion (拟提拔) and what the calendar answers; a check a
/// freeze refuses counts as a deferred promotion (暂缓提拔) in the statistics (organizer).
#[utoipa::path(post, path = "/api/v1/people/{id}/promotion-checks", security(("token" = [])),
    request_body = PromotionCheckRequest,
    params(("id" = i64, Path, description = "person id")),
    responses((status = 201, body = PromotionCheckBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn check_promotion(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PromotionCheckRequest>,
) -> Result<(StatusCode, Json<PromotionCheckBody>), ApiError> {
    let day = body.on.unwrap_or_else(|| state.today());
    let check =
        accountability::check_promotion(&state, PersonId(id), day, &body.note, &who.actor())
            .await?;
    Ok((StatusCode::CREATED, Json(check.into())))
}

/// Every promotion check recorded, oldest first (organizer, leader).
#[utoipa::path(get, path = "/api/v1/promotion/checks", security(("token" = [])),
    responses((status = 200, body = Vec<PromotionCheckBody>)))]
pub async fn promotion_checks(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
) -> Result<Json<Vec<PromotionCheckBody>>, ApiError> {
    Ok(Json(
        state
            .store()
            .promotion_checks()
            .await?
            .into_iter()
            .map(PromotionCheckBody::from)
            .collect(),
    ))
}

/// Since the first round: rounds held, reminder talks, interviews, removals, deferred
/// promotions, deductions and substantiated reports, per year and in total (public).
#[utoipa::path(get, path = "/api/v1/statistics", responses((status = 200, body = Object)))]
pub async fn statistics(
    State(state): State<Shared>,
) -> Result<Json<minping_domain::statistics::Statistics>, ApiError> {
    Ok(Json(accountability::statistics(&state).await?))
}

/// The circulation notice (通报) of a finalized or published round, as a PDF (organizer,
/// leader).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/notice.pdf", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn notice(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    let pdf = notice::pdf(&state, RoundId(id)).await?;
    Ok(crate::download::notice(id, pdf))
}

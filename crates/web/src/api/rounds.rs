//! Rounds (评议轮次) and their lifecycle.

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, ORGANIZER},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use minping_app::{
    results::{self, ResultRow},
    rounds,
};
use minping_domain::{Round, RoundId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A round as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct RoundBody {
    /// Its id.
    pub id: i64,
    /// The period it evaluates, as its label: `2020Q3`, `2020H1`, `2020`, `2020-03` or
    /// `2020-01-15..2020-05-31`.
    pub label: String,
    /// The period's first day.
    pub start: chrono::NaiveDate,
    /// The period's last day.
    pub end: chrono::NaiveDate,
    /// `draft`, `open`, `closed`, `finalized` or `published`.
    pub state: String,
    /// The period in Chinese, e.g. 2020年第3季度.
    pub label_zh: String,
    /// Indicator codes on this round's form, in printed order.
    pub indicators: Vec<String>,
    /// K: most units one ballot may name.
    pub max_nominations: usize,
    /// N: size of the published list.
    pub top_n: u32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<&Round> for RoundBody {
    fn from(r: &Round) -> Self {
        Self {
            id: r.id.0,
            label: r.period.to_string(),
            start: r.period.start(),
            end: r.period.end(),
            state: r.state.to_string(),
            label_zh: r.period.display_zh(),
            indicators: r
                .settings
                .indicators
                .iter()
                .map(|i| i.code.clone())
                .collect(),
            max_nominations: r.settings.max_nominations,
            top_n: r.settings.top_n,
            created_at: r.created_at,
        }
    }
}

/// Every round, latest period first.
#[utoipa::path(get, path = "/api/v1/rounds", responses((status = 200, body = Vec<RoundBody>)))]
pub async fn list_rounds(State(state): State<Shared>) -> Result<Json<Vec<RoundBody>>, ApiError> {
    Ok(Json(
        state
            .store()
            .rounds()
            .await?
            .iter()
            .map(RoundBody::from)
            .collect(),
    ))
}

/// One round.
#[utoipa::path(get, path = "/api/v1/rounds/{id}", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = RoundBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_round(
    State(state): State<Shared>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RoundBody>, ApiError> {
    Ok(Json(RoundBody::from(&state.round(RoundId(id)).await?)))
}

/// A round to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRound {
    /// The period: a quarter (`2026Q4`), a half-year (`2026H1`), a year (`2026`), a month
    /// (`2026-03`) or two days (`2026-01-15..2026-05-31`); it may not overlap another round's.
    pub label: String,
}

/// Creates a draft round for a period with the deployment's current settings (organizer).
#[utoipa::path(post, path = "/api/v1/rounds", security(("token" = [])), request_body = NewRound,
    responses((status = 201, body = RoundBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_round(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<NewRound>,
) -> Result<(StatusCode, Json<RoundBody>), ApiError> {
    let round = rounds::create(&state, &body.label, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(RoundBody::from(&round))))
}

/// The next state for a round.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// `open`, `closed`, `finalized` or `published`: the one after the current state.
    pub to: String,
}

/// Moves a round one step along its lifecycle (organizer). Finalizing freezes the ranking.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/transition", security(("token" = [])), request_body = TransitionRequest,
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = RoundBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn transition_round(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TransitionRequest>,
) -> Result<Json<RoundBody>, ApiError> {
    let round = rounds::advance_to(&state, RoundId(id), &body.to, &who.actor()).await?;
    Ok(Json(RoundBody::from(&round)))
}

/// One recorded lifecycle step.
#[derive(Serialize, ToSchema)]
pub struct TransitionBody {
    /// State before.
    pub from: String,
    /// State after.
    pub to: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The round's recorded transitions, oldest first (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/transitions", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), responses((status = 200, body = Vec<TransitionBody>)))]
pub async fn list_transitions(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<TransitionBody>>, ApiError> {
    state.round(RoundId(id)).await?;
    let list = state.store().transitions(RoundId(id)).await?;
    Ok(Json(
        list.into_iter()
            .map(|t| TransitionBody {
                from: t.from.to_string(),
                to: t.to.to_string(),
                actor: t.actor,
                at: t.at,
            })
            .collect(),
    ))
}

/// The ranking as it would be frozen now, for a closed (or later) round (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/preview", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = Vec<ResultRow>), (status = 409, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ResultRow>>, ApiError> {
    let (round, ranking) = rounds::preview(&state, RoundId(id)).await?;
    Ok(Json(results::rows(&state, &round, &ranking).await?))
}

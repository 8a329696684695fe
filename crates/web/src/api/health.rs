//! Liveness and "who am I".

use crate::{auth::CurrentUser, error::ApiError, state::Shared};
use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

/// 200 while the server runs and its database answers; 503 otherwise.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "healthy"), (status = 503, description = "database unreachable")))]
pub async fn healthz(State(state): State<Shared>) -> Result<&'static str, ApiError> {
    state.store().rounds().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "database unreachable",
        )
    })?;
    Ok("ok")
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub struct Me {
    id: i64,
    name: String,
    role: String,
    unit_id: Option<i64>,
}

/// Who the token or session belongs to.
#[utoipa::path(get, path = "/api/v1/me", security(("token" = [])), responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(user: CurrentUser) -> Result<Json<Me>, ApiError> {
    let user = user.0.ok_or_else(ApiError::unauthorized)?;
    Ok(Json(Me {
        id: user.id.0,
        name: user.name,
        role: user.role.to_string(),
        unit_id: user.unit_id.map(|u| u.0),
    }))
}

//! The audit log of staff actions, for the organizer and leaders.

use super::panel::ApiQuery;
use crate::{
    auth::{Authorized, ORGANIZER_OR_LEADER},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State};
use minping_app::audit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which events to show.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// One object (`round:3`, `unit:12`, `report:7`) or one kind (`round:`); all when absent.
    #[serde(default)]
    pub object: Option<String>,
    /// Only events before this place, to page back.
    #[serde(default)]
    pub before: Option<i64>,
}

/// One event of the log.
#[derive(Serialize, ToSchema)]
pub struct EventBody {
    /// Its place in the chain.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The account that acted (none for the system or the command line).
    pub actor_id: Option<i64>,
    /// Its name.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub object: String,
    /// Before, after and particulars (JSON).
    pub detail: serde_json::Value,
    /// The previous event's hash.
    pub prev: String,
    /// This event's hash.
    pub hash: String,
}

/// A page of the log with its head.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// The chain's head now: its length.
    pub head_seq: i64,
    /// The last event's hash.
    pub head_hash: String,
    /// Up to 100 events, newest first.
    pub events: Vec<EventBody>,
}

/// The audit log, newest first, filtered by object (organizer, leader). Each event is
/// hash-chained to the one before; `minping audit verify` checks the whole chain.
#[utoipa::path(get, path = "/api/v1/audit", security(("token" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage)))]
pub async fn events(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let head = audit::head(&state).await?;
    let events = audit::events(&state, q.object.as_deref(), q.before)
        .await?
        .into_iter()
        .map(|e| EventBody {
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
            seq: e.seq,
            at: e.at,
            actor_id: e.actor_id,
            actor: e.actor,
            action: e.action,
            object: e.object,
            prev: e.prev,
            hash: e.hash,
        })
        .collect();
    Ok(Json(AuditPage {
        head_seq: head.seq,
        head_hash: head.hash,
        events,
    }))
}

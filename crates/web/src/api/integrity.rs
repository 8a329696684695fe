//! Integrity of the open channel: run the stuffing scan, list the quarantine, release or
//! keep out a cluster (organizer only).

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, ORGANIZER},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State};
use minping_app::integrity::{self, ScanSummary};
use minping_domain::RoundId;
use minping_storage::Decision;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Runs the stuffing scan over the round now (organizer). It also runs by itself every
/// minute while ballots arrive, and always when the round closes.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/integrity/scan", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = ScanSummary), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "finalized or published", body = crate::error::ErrorBody)))]
pub async fn scan(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ScanSummary>, ApiError> {
    Ok(Json(integrity::scan(&state, RoundId(id)).await?))
}

/// A ballot the scan holds.
#[derive(Serialize, ToSchema)]
pub struct HeldBody {
    /// Its receipt.
    pub receipt: String,
    /// The cluster holding it.
    pub cluster: String,
    /// Why the cluster was found, in words.
    pub reason: String,
    /// `held` (awaiting review) or `kept` (the organizer confirmed the hold).
    pub state: String,
}

/// The round's held ballots, by cluster (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/quarantine", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = Vec<HeldBody>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn quarantine(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<HeldBody>>, ApiError> {
    let round = RoundId(id);
    let held = integrity::quarantine(&state, round).await?;
    let units: HashMap<i64, String> = state
        .store()
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id.0, u.name))
        .collect();
    let reasons: HashMap<String, String> = state
        .store()
        .clusters(round)
        .await?
        .into_iter()
        .map(|c| {
            let text = c
                .findings
                .iter()
                .map(|f| {
                    let name = units
                        .get(&f.unit.0)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", f.unit.0));
                    f.describe_en(&name)
                })
                .collect::<Vec<_>>()
                .join("; ");
            (c.id, text)
        })
        .collect();
    Ok(Json(
        held.into_iter()
            .map(|h| HeldBody {
                reason: reasons.get(&h.cluster).cloned().unwrap_or_default(),
                receipt: h.receipt,
                cluster: h.cluster,
                state: h.state,
            })
            .collect(),
    ))
}

/// A decision on a cluster.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterDecision {
    /// The cluster's id, as the quarantine lists it.
    pub cluster: String,
    /// Why (recorded with who decided and when).
    pub reason: String,
}

/// How many ballots a decision covered.
#[derive(Serialize, ToSchema)]
pub struct DecidedBody {
    /// The cluster.
    pub cluster: String,
    /// Ballots released (counted) or kept out.
    pub ballots: u64,
}

/// Releases a cluster: its held ballots count (organizer; the reason is recorded).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/quarantine/release", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), request_body = ClusterDecision,
    responses((status = 200, body = DecidedBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "ranking frozen", body = crate::error::ErrorBody),
        (status = 422, description = "no reason", body = crate::error::ErrorBody)))]
pub async fn release(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ClusterDecision>,
) -> Result<Json<DecidedBody>, ApiError> {
    decide(&state, who, id, body, Decision::Release).await
}

/// Keeps a cluster out of the count for good (organizer; the reason is recorded).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/quarantine/keep", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), request_body = ClusterDecision,
    responses((status = 200, body = DecidedBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "ranking frozen", body = crate::error::ErrorBody),
        (status = 422, description = "no reason", body = crate::error::ErrorBody)))]
pub async fn keep(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ClusterDecision>,
) -> Result<Json<DecidedBody>, ApiError> {
    decide(&state, who, id, body, Decision::Keep).await
}

async fn decide(
    state: &Shared,
    who: Authorized<ORGANIZER>,
    id: i64,
    body: ClusterDecision,
    decision: Decision,
) -> Result<Json<DecidedBody>, ApiError> {
    let ballots = integrity::decide(
        state,
        RoundId(id),
        &body.cluster,
        decision,
        &body.reason,
        &who.actor(),
    )
    .await?;
    Ok(Json(DecidedBody {
        cluster: body.cluster.trim().to_string(),
        ballots,
    }))
}

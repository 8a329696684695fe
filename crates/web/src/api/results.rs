//! Published results: the ranking with each unit's indicator breakdown and the method.

use super::{ApiPath, rounds::RoundBody};
use crate::{
    auth::{CurrentUser, ORGANIZER_OR_LEADER, role_bit},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State};
use minping_app::results::{self, Reader, ResultRow, Results};
use minping_domain::RoundId;
use serde::Serialize;
use utoipa::ToSchema;

/// A round's results.
#[derive(Serialize, ToSchema)]
pub struct ResultsBody {
    /// The round.
    pub round: RoundBody,
    /// The method and its parameters, enough to recompute the ranking.
    #[schema(value_type = Object)]
    pub method: serde_json::Value,
    /// Ballots counted.
    pub ballots: u64,
    /// Ballots the stuffing scan holds out of the count (see `/method#stuffing`).
    pub held: u64,
    /// Whether counting the held ballots would change which units make the top N.
    pub held_changes_top_n: bool,
    /// Every ranked unit, in rank order.
    pub ranking: Vec<ResultRow>,
}

impl From<Results> for ResultsBody {
    fn from(r: Results) -> Self {
        Self {
            round: RoundBody::from(&r.round),
            method: r.method,
            ballots: r.ballots,
            held: r.held,
            held_changes_top_n: r.held_changes_top_n,
            ranking: r.ranking,
        }
    }
}

/// A published round's results, public. The organizer and leaders also see finalized
/// rounds before publication; to everyone else an unpublished round does not exist.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/results", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = ResultsBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_results(
    State(state): State<Shared>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResultsBody>, ApiError> {
    Ok(Json(
        results::visible(&state, RoundId(id), reader(&user))
            .await?
            .into(),
    ))
}

/// A round's counted receipts: the hashes (SHA-256 of each receipt as printed), sorted, and
/// the Merkle root over them (RFC 6962) that the 通报 prints.
#[derive(Serialize, ToSchema)]
pub struct ReceiptListBody {
    /// The round.
    pub round_id: i64,
    /// How many ballots were counted.
    pub count: usize,
    /// The Merkle root, hex.
    pub root: String,
    /// The counted receipts' hashes, hex, ascending.
    pub hashes: Vec<String>,
}

/// The list of a published round's counted receipts (public): anyone can check that their
/// receipt is in it and that it matches the root printed in the 通报 (`minping receipts
/// verify`). The organizer and leaders also see it for a finalized round.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/receipts", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = ReceiptListBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_receipts(
    State(state): State<Shared>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReceiptListBody>, ApiError> {
    let (round, list) = results::counted_receipts(&state, RoundId(id), reader(&user)).await?;
    Ok(Json(ReceiptListBody {
        round_id: round.id.0,
        count: list.len(),
        root: list.root(),
        hashes: list.hex(),
    }))
}

/// Who is reading: insiders see finalized rounds too.
fn reader(user: &CurrentUser) -> Reader {
    match &user.0 {
        Some(u) if role_bit(u.role) & ORGANIZER_OR_LEADER != 0 => Reader::Insider,
        _ => Reader::Public,
    }
}

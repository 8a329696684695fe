//! Ballot intake and receipts.

use super::{ApiJson, ApiPath};
use crate::{client::Client, error::ApiError, state::Shared};
use axum::{Json, extract::State, http::StatusCode};
use minping_app::intake::{self, ReceiptStatus};
use minping_domain::{BallotDraft, NominationDraft, RoundId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A ballot: up to K named units, each with at least one indicator.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BallotBody {
    /// `open` (newspaper or website form) or `directed` (panel member, with `code`).
    pub channel: String,
    /// The one-time code of a directed ballot.
    #[serde(default)]
    pub code: Option<String>,
    /// The named units.
    pub nominations: Vec<NominationBody>,
    /// Units the respondent dealt with this quarter (optional).
    #[serde(default)]
    pub exposure: Vec<i64>,
}

/// One named unit.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NominationBody {
    /// The unit's id.
    pub unit_id: i64,
    /// Indicator codes: `cold`, `lazy`, `shirking`, `arbitrary`, `greedy`.
    #[serde(default)]
    pub indicators: Vec<String>,
    /// Optional comment, at most 500 characters.
    #[serde(default)]
    pub comment: Option<String>,
}

impl From<BallotBody> for BallotDraft {
    fn from(b: BallotBody) -> Self {
        BallotDraft {
            channel: b.channel,
            code: b.code,
            nominations: b.nominations.into_iter().map(Into::into).collect(),
            exposure: b.exposure,
        }
    }
}

impl From<NominationBody> for NominationDraft {
    fn from(n: NominationBody) -> Self {
        NominationDraft {
            unit_id: n.unit_id,
            indicators: n.indicators,
            comment: n.comment,
        }
    }
}

/// Proof that a ballot was stored.
#[derive(Serialize, ToSchema)]
pub struct ReceiptBody {
    /// The receipt code.
    pub receipt: String,
}

/// Casts a ballot in an open round. A 201 means it is on disk.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/ballots", request_body = BallotBody,
    params(("id" = i64, Path, description = "round id")),
    responses(
        (status = 201, body = ReceiptBody),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "round not open", body = crate::error::ErrorBody),
        (status = 422, description = "invalid ballot", body = crate::error::ErrorBody),
    ))]
pub async fn post_ballot(
    State(state): State<Shared>,
    ApiPath(id): ApiPath<i64>,
    Client(client): Client,
    ApiJson(body): ApiJson<BallotBody>,
) -> Result<(StatusCode, Json<ReceiptBody>), ApiError> {
    let receipt = intake::submit(&state, RoundId(id), body.into(), &client).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReceiptBody {
            receipt: receipt.to_string(),
        }),
    ))
}

/// Where a ballot stands. A receipt proves the ballot was stored and counted (or held),
/// never what it said: showing that would let anyone who demands a receipt see a vote.
#[derive(Serialize, ToSchema)]
pub struct ReceiptStatusBody {
    /// The receipt, as printed.
    pub receipt: String,
    /// The round.
    pub round_id: i64,
    /// `stored` (round open), `counted` (round closed, counted) or `held` (held by the
    /// stuffing scan, counted only if the organizer releases it).
    pub status: ReceiptStatus,
}

/// Looks a receipt up (public): stored, counted or held. Spaces, dashes and case do not
/// matter.
#[utoipa::path(get, path = "/api/v1/receipts/{receipt}", params(("receipt" = String, Path, description = "receipt code")),
    responses((status = 200, body = ReceiptStatusBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_receipt(
    State(state): State<Shared>,
    ApiPath(receipt): ApiPath<String>,
) -> Result<Json<ReceiptStatusBody>, ApiError> {
    let (receipt, round, status) = intake::receipt_status(&state, &receipt)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(ReceiptStatusBody {
        receipt: receipt.to_string(),
        round_id: round.id.0,
        status,
    }))
}

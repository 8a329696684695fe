//! The conflict queue: a ballot whose code had already been spent is kept until the
//! organizer decides, never dropped or allowed to overwrite the first.

use crate::{error::ApiError, state::AppState};
use axum::http::StatusCode;
use chrono::Utc;
use minping_domain::{Ballot, Channel, IndicatorMask, Nomination, Receipt, UnitId};
use minping_storage::{Actor, BallotRejected, Conflict, NewBallot, Resolution, WriteError};
use serde::Deserialize;

#[derive(Deserialize)]
struct StoredNomination {
    unit_id: UnitId,
    indicators: IndicatorMask,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct StoredBallot {
    nominations: Vec<StoredNomination>,
    #[serde(default)]
    exposure: Vec<UnitId>,
}

/// Reads back a ballot kept as JSON by [`minping_storage::ballot_json`].
fn ballot_from_json(content: &str) -> Option<Ballot> {
    let b: StoredBallot = serde_json::from_str(content).ok()?;
    Some(Ballot {
        channel: Channel::Directed,
        code: None,
        nominations: b
            .nominations
            .into_iter()
            .map(|n| Nomination {
                unit_id: n.unit_id,
                indicators: n.indicators,
                comment: n.comment,
            })
            .collect(),
        exposure: b.exposure,
    })
}

/// Counts or sets aside a pending conflict. Counting stores the kept ballot as a directed
/// ballot without spending anything (its code is spent already); the round must be open.
pub async fn resolve(
    state: &AppState,
    id: i64,
    count: bool,
    reason: &str,
    actor: &Actor,
) -> Result<Conflict, ApiError> {
    if count {
        let round_of = |c: &Conflict| c.round_id;
        let pending = find_pending(state, id).await?;
        let ballot = ballot_from_json(&pending.content).ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "unreadable kept ballot",
            )
        })?;
        // The conflict is marked counted in the ballot's own transaction: two organizers
        // counting it at the same moment store it once.
        let new = NewBallot::new(
            round_of(&pending),
            ballot,
            Receipt::generate(&mut rand::thread_rng()),
            state.today(),
            None,
        )
        .resolving(Resolution {
            conflict_id: id,
            by: actor.name.clone(),
            reason: reason.to_string(),
            at: Utc::now(),
        });
        match state.writer.write(new).await {
            Ok(()) => {
                return state
                    .store
                    .conflict(id)
                    .await?
                    .ok_or_else(ApiError::not_found);
            }
            Err(WriteError::Rejected(BallotRejected::ConflictAlreadyResolved)) => {
                return Err(already_resolved());
            }
            Err(WriteError::Rejected(BallotRejected::RoundNotOpen)) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "round_not_open",
                    "a kept ballot can be counted only while its round is open",
                ));
            }
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    e.to_string(),
                ));
            }
        }
    }
    Ok(state
        .store
        .resolve_conflict(id, false, actor, reason, Utc::now())
        .await?)
}

async fn find_pending(state: &AppState, id: i64) -> Result<Conflict, ApiError> {
    let c = state
        .store
        .conflict(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if c.state != "pending" {
        return Err(already_resolved());
    }
    Ok(c)
}

fn already_resolved() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "this conflict is already resolved",
    )
}

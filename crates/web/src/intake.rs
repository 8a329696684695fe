//! Ballot intake, shared by the public form and the API: check the round, parse the draft,
//! hand the ballot to the group-commit writer, return the receipt once it is on disk.

use crate::{error::ApiError, state::AppState};
use axum::http::StatusCode;
use minping_domain::{BallotDraft, BallotError, Channel, Receipt, RoundId, RoundState};
use minping_storage::{NewBallot, StorageError, WriteError};

/// Why a ballot was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// No such round.
    #[error("no such round")]
    RoundNotFound,
    /// The round does not take ballots now.
    #[error("the round is not open for ballots")]
    RoundNotOpen,
    /// The ballot itself is wrong.
    #[error("{0}")]
    Invalid(#[from] BallotError),
    /// The one-time code is not valid.
    #[error("the one-time code is not valid")]
    CodeInvalid,
    /// Storage failed; nothing was stored.
    #[error("{0}")]
    Unavailable(String),
}

impl From<StorageError> for IntakeError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => IntakeError::RoundNotFound,
            e => IntakeError::Unavailable(e.to_string()),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::RoundNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "round_not_found", "no such round")
            }
            IntakeError::RoundNotOpen => ApiError::new(
                StatusCode::CONFLICT,
                "round_not_open",
                "this round is not open for ballots",
            ),
            IntakeError::Invalid(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
                    .with_field(e.field())
            }
            IntakeError::CodeInvalid => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "code_invalid",
                "the one-time code is not valid",
            )
            .with_field("code"),
            IntakeError::Unavailable(m) => {
                tracing::error!(error = %m, "ballot not stored");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the ballot could not be stored; nothing was kept, please send it again",
                )
            }
        }
    }
}

/// Checks and stores a ballot; the receipt is returned only once the ballot is durable.
pub async fn submit(
    state: &AppState,
    round_id: RoundId,
    draft: BallotDraft,
) -> Result<Receipt, IntakeError> {
    let round = state.round(round_id).await?;
    if round.state != RoundState::Open {
        return Err(IntakeError::RoundNotOpen);
    }
    let evaluated = state.evaluated_units().await?;
    let ballot = draft.parse(&round.settings, |u| evaluated.contains(&u))?;
    if ballot.channel == Channel::Directed {
        // No panel has been drawn, so no one-time code exists yet to spend.
        return Err(IntakeError::CodeInvalid);
    }
    let receipt = Receipt::generate(&mut rand::thread_rng());
    let new = NewBallot {
        round_id,
        ballot,
        receipt: receipt.clone(),
        received_on: state.today(),
    };
    match state.writer.write(new).await {
        Ok(()) => Ok(receipt),
        Err(WriteError::RoundNotOpen) => Err(IntakeError::RoundNotOpen),
        Err(WriteError::Unavailable(m)) => Err(IntakeError::Unavailable(m)),
    }
}

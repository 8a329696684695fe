//! Ballot intake, shared by the public form and the API: check the round, parse the draft,
//! hand the ballot to the group-commit writer, return the receipt once it is on disk.

use crate::{error::ApiError, state::AppState};
use axum::http::StatusCode;
use minping_domain::{
    Ballot, BallotDraft, BallotError, Channel, Receipt, RoundId, RoundState,
    code::{CodeError, OneTimeCode},
};
use minping_storage::{
    BallotRejected, NewBallot, PaperForm, Response, Spend, StorageError, WriteError,
};

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
    /// The one-time code is not well formed (a typo), or belongs to nobody drawn.
    #[error("the one-time code is not valid")]
    CodeInvalid(Option<CodeError>),
    /// The one-time code was spent before; the ballot went to the conflict queue.
    #[error("the one-time code has already been used")]
    CodeAlreadyUsed,
    /// The paper form was already counted or set aside.
    #[error("this paper form has already been decided")]
    FormAlreadyDecided,
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
            IntakeError::CodeInvalid(why) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "code_invalid",
                match why {
                    Some(e) => format!("the one-time code is not valid: {e}"),
                    None => "no one drawn for this round has this code".to_string(),
                },
            )
            .with_field("code"),
            IntakeError::CodeAlreadyUsed => ApiError::new(
                StatusCode::CONFLICT,
                "code_already_used",
                "this code has already been used; your ballot was kept for the organizer to review",
            )
            .with_field("code"),
            IntakeError::FormAlreadyDecided => ApiError::new(
                StatusCode::CONFLICT,
                "form_already_decided",
                "this paper form has already been counted or set aside",
            ),
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

/// Checks and stores a ballot sent online; the receipt is returned only once the ballot is
/// durable.
pub async fn submit(
    state: &AppState,
    round_id: RoundId,
    draft: BallotDraft,
) -> Result<Receipt, IntakeError> {
    let round = state.round_for_intake(round_id).await?;
    if round.state != RoundState::Open {
        return Err(IntakeError::RoundNotOpen);
    }
    let evaluated = state.evaluated_units().await?;
    let ballot = draft.parse(&round.settings, |u| evaluated.contains(&u))?;
    store(state, round_id, ballot, Response::Online, None).await
}

/// The digest a code is stored under.
pub fn code_digest(state: &AppState, typed: &str) -> Result<String, IntakeError> {
    let code = OneTimeCode::parse(typed).map_err(|e| IntakeError::CodeInvalid(Some(e)))?;
    Ok(code.digest(&state.code_key))
}

/// Stores a checked ballot, spending its code if it is directed; `paper` names the paper
/// form it was keyed from, decided in the same transaction.
pub async fn store(
    state: &AppState,
    round_id: RoundId,
    ballot: Ballot,
    response: Response,
    paper: Option<PaperForm>,
) -> Result<Receipt, IntakeError> {
    let today = state.today();
    let spend = match ballot.channel {
        Channel::Directed => Some(Spend {
            digest: code_digest(state, ballot.code.as_deref().unwrap_or_default())?,
            response,
            on: today,
        }),
        Channel::Open => None,
    };
    let receipt = Receipt::generate(&mut rand::thread_rng());
    let mut new = NewBallot::new(round_id, ballot, receipt.clone(), today, spend);
    if let Some(form) = paper {
        new = new.from_paper(form);
    }
    match state.writer.write(new).await {
        Ok(()) => Ok(receipt),
        Err(WriteError::Rejected(BallotRejected::RoundNotOpen)) => Err(IntakeError::RoundNotOpen),
        Err(WriteError::Rejected(BallotRejected::CodeInvalid)) => {
            Err(IntakeError::CodeInvalid(None))
        }
        Err(WriteError::Rejected(BallotRejected::CodeAlreadyUsed)) => {
            Err(IntakeError::CodeAlreadyUsed)
        }
        Err(WriteError::Rejected(BallotRejected::FormAlreadyDecided)) => {
            Err(IntakeError::FormAlreadyDecided)
        }
        // Intake resolves no conflict; only counting a kept ballot does (crate::conflicts).
        Err(WriteError::Rejected(e @ BallotRejected::ConflictAlreadyResolved)) => {
            Err(IntakeError::Unavailable(e.to_string()))
        }
        Err(WriteError::Unavailable(m)) => Err(IntakeError::Unavailable(m)),
    }
}

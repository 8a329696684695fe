//! Ballot intake, for the public form, the API and paper entry: check the round, parse the
//! draft, hand the ballot to the group-commit writer, return the receipt once it is on disk.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{
    Ballot, BallotDraft, BallotError, Channel, Receipt, Round, RoundId, RoundState,
    code::{CodeError, OneTimeCode, resolved_conflict_tag},
    integrity::{ClientFacts, signals::Signals},
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
    #[error("this round is not open for ballots")]
    RoundNotOpen,
    /// The ballot itself is wrong.
    #[error("{0}")]
    Invalid(#[from] BallotError),
    /// The one-time code is not well formed (a typo), or belongs to nobody drawn.
    #[error("{}", code_invalid(.0))]
    CodeInvalid(Option<CodeError>),
    /// The one-time code was spent before; the ballot went to the conflict queue.
    #[error("this code has already been used; your ballot was kept for the organizer to review")]
    CodeAlreadyUsed,
    /// The paper form was already counted or set aside.
    #[error("this paper form has already been counted or set aside")]
    FormAlreadyDecided,
    /// Storage failed; nothing was stored.
    #[error("the ballot could not be stored; nothing was kept, please send it again")]
    Unavailable(String),
}

fn code_invalid(why: &Option<CodeError>) -> String {
    match why {
        Some(e) => format!("the one-time code is not valid: {e}"),
        None => "no one drawn for this round has this code".into(),
    }
}

impl From<StorageError> for IntakeError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => IntakeError::RoundNotFound,
            e => IntakeError::Unavailable(e.to_string()),
        }
    }
}

impl WorkflowError for IntakeError {
    fn code(&self) -> &'static str {
        match self {
            IntakeError::RoundNotFound => "round_not_found",
            IntakeError::RoundNotOpen => "round_not_open",
            IntakeError::Invalid(e) => e.code(),
            IntakeError::CodeInvalid(_) => "code_invalid",
            IntakeError::CodeAlreadyUsed => "code_already_used",
            IntakeError::FormAlreadyDecided => "form_already_decided",
            IntakeError::Unavailable(_) => "unavailable",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            IntakeError::RoundNotFound => ErrorKind::NotFound,
            IntakeError::RoundNotOpen
            | IntakeError::CodeAlreadyUsed
            | IntakeError::FormAlreadyDecided => ErrorKind::Conflict,
            IntakeError::Invalid(_) | IntakeError::CodeInvalid(_) => ErrorKind::Invalid,
            IntakeError::Unavailable(_) => ErrorKind::Unavailable,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            IntakeError::Invalid(e) => Some(e.field()),
            IntakeError::CodeInvalid(_) | IntakeError::CodeAlreadyUsed => Some("code".into()),
            _ => None,
        }
    }

    fn message_zh(&self) -> Option<String> {
        match self {
            IntakeError::Invalid(e) => Some(e.message_zh()),
            _ => None,
        }
    }
}

/// Checks and stores a ballot sent online by `client`; the receipt is returned only once
/// the ballot is durable. An open-channel ballot from a known address is stored with the
/// signals stuffing detection reads (keyed hashes only, see [`Signals`]); a directed one,
/// or one handed in by the process itself (no address: the demo's seeding), with none.
pub async fn submit(
    app: &App,
    round_id: RoundId,
    draft: BallotDraft,
    client: &ClientFacts,
) -> Result<Receipt, IntakeError> {
    let round = app.round_for_intake(round_id).await?;
    if round.state != RoundState::Open {
        return Err(IntakeError::RoundNotOpen);
    }
    let evaluated = app.evaluated_units().await?;
    let ballot = draft.parse(&round.settings, |u| evaluated.contains(&u))?;
    let signals = (ballot.channel == Channel::Open && client.addr.is_some()).then(|| {
        let minute = app.now().timestamp().div_euclid(60);
        Signals::of(app.code_key(), client, &ballot, minute)
    });
    store(app, round_id, ballot, Response::Online, None, signals).await
}

/// The digest a code is stored under.
pub fn code_digest(app: &App, typed: &str) -> Result<String, IntakeError> {
    let code = OneTimeCode::parse(typed).map_err(|e| IntakeError::CodeInvalid(Some(e)))?;
    Ok(code.digest(app.code_key()))
}

/// Stores a checked ballot, spending its code if it is directed; `paper` names the paper
/// form it was keyed from, decided in the same transaction.
pub(crate) async fn store(
    app: &App,
    round_id: RoundId,
    ballot: Ballot,
    response: Response,
    paper: Option<PaperForm>,
    signals: Option<Signals>,
) -> Result<Receipt, IntakeError> {
    let today = app.today();
    let spend = match ballot.channel {
        Channel::Directed => {
            let digest = code_digest(app, ballot.code.as_deref().unwrap_or_default())?;
            Some(Spend {
                resolved_tag: resolved_conflict_tag(app.code_key(), &digest),
                digest,
                response,
                on: today,
            })
        }
        Channel::Open => None,
    };
    let receipt = Receipt::generate(&mut rand::thread_rng());
    let mut new = NewBallot::new(round_id, ballot, receipt.clone(), today, spend);
    if let Some(form) = paper {
        new = new.from_paper(form);
    }
    if let Some(signals) = signals {
        new = new.with_signals(signals);
    }
    match app.writer().write(new).await {
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

/// Where a ballot stands, as its receipt shows it: never what it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStatus {
    /// On disk; the round is still open.
    Stored,
    /// Counted in the round's ranking (the round has closed).
    Counted,
    /// Held by the stuffing scan: not counted unless the organizer releases it.
    Held,
}

/// Looks a receipt up as someone typed it. `None` if no ballot has it.
pub async fn receipt_status(
    app: &App,
    typed: &str,
) -> Result<Option<(Receipt, Round, ReceiptStatus)>, StorageError> {
    let Some(receipt) = Receipt::parse(typed) else {
        return Ok(None);
    };
    let Some(state) = app.store().receipt_state(receipt.as_str()).await? else {
        return Ok(None);
    };
    let round = app.round(state.round_id).await?;
    // A hold is told as soon as the scan makes it, as the receipt contract says: the sender
    // of a genuine ballot caught in a cluster learns it can still be released, and the
    // organizer's review, not the sender's guessing, decides. (A stuffer learns which tries
    // were caught; the scan's thresholds are public on /method anyway.)
    let status = if state.held {
        ReceiptStatus::Held
    } else if round.state == RoundState::Open {
        ReceiptStatus::Stored
    } else {
        ReceiptStatus::Counted
    };
    Ok(Some((receipt, round, status)))
}

//! The conflict queue: a ballot whose code had already been spent is kept until the
//! organizer decides, never dropped or allowed to overwrite the first.

use crate::{
    App,
    error::{ErrorKind, NameError, WorkflowError, checked_name},
};
use minping_domain::{
    Ballot, Channel, IndicatorMask, Nomination, Receipt, UnitId, code::resolved_conflict_tag,
};
use minping_storage::{
    Actor, BallotRejected, Conflict, NewBallot, Resolution, StorageError, WriteError,
};
use serde::Deserialize;

/// Why a conflict could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConflictError {
    /// No such conflict.
    #[error("not found")]
    NotFound,
    /// Someone resolved it first.
    #[error("this conflict is already resolved")]
    AlreadyResolved,
    /// Counting needs the round open.
    #[error("a kept ballot can be counted only while its round is open")]
    RoundNotOpen,
    /// The reason is missing or too long.
    #[error(transparent)]
    Reason(#[from] NameError),
    /// The kept ballot cannot be read back.
    #[error("unreadable kept ballot")]
    Unreadable,
    /// The ballot writer could not store it; nothing changed.
    #[error("the ballot could not be stored; nothing changed, try again")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for ConflictError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ConflictError::NotFound,
            StorageError::Conflict(_) => ConflictError::AlreadyResolved,
            e => ConflictError::Storage(e),
        }
    }
}

impl WorkflowError for ConflictError {
    fn code(&self) -> &'static str {
        match self {
            ConflictError::NotFound => "not_found",
            ConflictError::AlreadyResolved => "conflict",
            ConflictError::RoundNotOpen => "round_not_open",
            ConflictError::Reason(e) => e.code(),
            ConflictError::Unreadable => "internal",
            ConflictError::Unavailable(_) => "unavailable",
            ConflictError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            ConflictError::NotFound => ErrorKind::NotFound,
            ConflictError::AlreadyResolved | ConflictError::RoundNotOpen => ErrorKind::Conflict,
            ConflictError::Reason(_) => ErrorKind::Invalid,
            ConflictError::Unreadable => ErrorKind::Internal,
            ConflictError::Unavailable(_) => ErrorKind::Unavailable,
            ConflictError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ConflictError::Reason(e) => e.field(),
            _ => None,
        }
    }
}

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
    app: &App,
    id: i64,
    count: bool,
    reason: &str,
    actor: &Actor,
) -> Result<Conflict, ConflictError> {
    let reason = checked_name("reason", reason)?;
    let pending = app
        .store()
        .conflict(id)
        .await?
        .ok_or(ConflictError::NotFound)?;
    if pending.state != "pending" {
        return Err(ConflictError::AlreadyResolved);
    }
    let tag = resolved_conflict_tag(app.code_key(), &pending.code_digest);
    if !count {
        return Ok(app
            .store()
            .resolve_conflict(id, false, actor, &reason, app.now(), &tag)
            .await?);
    }
    let ballot = ballot_from_json(&pending.content).ok_or(ConflictError::Unreadable)?;
    // The conflict is marked counted in the ballot's own transaction: two organizers counting
    // it at the same moment store it once.
    let new = NewBallot::new(
        pending.round_id,
        ballot,
        Receipt::generate(&mut rand::thread_rng()),
        app.today(),
        None,
    )
    .resolving(Resolution {
        conflict_id: id,
        by: actor.clone(),
        reason,
        at: app.now(),
        tag,
    });
    match app.writer().write(new).await {
        Ok(()) => app
            .store()
            .conflict(id)
            .await?
            .ok_or(ConflictError::NotFound),
        Err(WriteError::Rejected(BallotRejected::ConflictAlreadyResolved)) => {
            Err(ConflictError::AlreadyResolved)
        }
        Err(WriteError::Rejected(BallotRejected::RoundNotOpen)) => Err(ConflictError::RoundNotOpen),
        Err(e) => Err(ConflictError::Unavailable(e.to_string())),
    }
}

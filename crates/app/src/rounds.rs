//! Rounds (评议轮次): creating one, and moving it through
//! `draft → open → closed → finalized → published`. Finalizing freezes the ranking with its
//! method and proposes the sanctions the rules give it; publishing starts those sanctions.

use crate::{
    App, accountability,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{
    Method, Ranking, Round, RoundId, RoundLabel, RoundState, ranking,
    report::{ReportState, Window, substantiated_in},
    round::RoundLabelError,
};
use minping_storage::{Actor, FrozenRanking, StorageError};

/// Why a round could not be created or moved.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// No such round.
    #[error("no such round")]
    NotFound,
    /// The label is not a period.
    #[error("{0}")]
    InvalidLabel(#[from] RoundLabelError),
    /// A state name that does not exist.
    #[error("unknown round state `{0}`")]
    UnknownState(String),
    /// A round for the period exists already.
    #[error("a round for {0} exists already")]
    Exists(String),
    /// The lifecycle does not allow this step.
    #[error("a {from} round cannot become {to}")]
    InvalidTransition {
        /// The round's state.
        from: RoundState,
        /// The state asked for.
        to: RoundState,
    },
    /// Another round is open: only one takes ballots at a time.
    #[error("round {0} is open; close it first")]
    AnotherRoundOpen(String),
    /// The ranking is previewed once the round is closed.
    #[error("close the round before previewing its ranking")]
    NotClosed,
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for RoundError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => RoundError::NotFound,
            e => RoundError::Storage(e),
        }
    }
}

impl WorkflowError for RoundError {
    fn code(&self) -> &'static str {
        match self {
            RoundError::NotFound => "not_found",
            RoundError::InvalidLabel(_) => "invalid_label",
            RoundError::UnknownState(_) => "unknown_state",
            RoundError::Exists(_) => "round_exists",
            RoundError::InvalidTransition { .. } => "invalid_transition",
            RoundError::AnotherRoundOpen(_) => "another_round_open",
            RoundError::NotClosed => "round_not_closed",
            RoundError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            RoundError::NotFound => ErrorKind::NotFound,
            RoundError::InvalidLabel(_) | RoundError::UnknownState(_) => ErrorKind::Invalid,
            RoundError::Exists(_)
            | RoundError::InvalidTransition { .. }
            | RoundError::AnotherRoundOpen(_)
            | RoundError::NotClosed => ErrorKind::Conflict,
            RoundError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            RoundError::InvalidLabel(_) => Some("label".into()),
            RoundError::UnknownState(_) | RoundError::InvalidTransition { .. } => Some("to".into()),
            _ => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            RoundError::InvalidLabel(e) => vec![("label", e.0.clone())],
            RoundError::UnknownState(s) => vec![("state", s.clone())],
            RoundError::Exists(l) | RoundError::AnotherRoundOpen(l) => vec![("label", l.clone())],
            RoundError::InvalidTransition { from, to } => {
                vec![("from", from.to_string()), ("to", to.to_string())]
            }
            RoundError::Storage(e) => e.params(),
            _ => Vec::new(),
        }
    }
}

/// Creates a draft round for a period, as typed (`2026Q4`), with the deployment's current
/// settings.
pub async fn create(app: &App, label: &str, actor: &Actor) -> Result<Round, RoundError> {
    let label: RoundLabel = label.parse()?;
    app.store()
        .create_round(label, &app.settings().round_settings(), actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::Conflict(_) => RoundError::Exists(label.to_string()),
            e => e.into(),
        })
}

/// Moves a round one step to the state named `to` (see [`advance`]).
pub async fn advance_to(
    app: &App,
    id: RoundId,
    to: &str,
    actor: &Actor,
) -> Result<Round, RoundError> {
    let to: RoundState = to
        .parse()
        .map_err(|_| RoundError::UnknownState(to.into()))?;
    advance(app, id, to, actor).await
}

/// Moves a round one step to `to`. Only one round may be open at a time, so a ballot can
/// never be cast into the wrong period by mistake.
pub async fn advance(
    app: &App,
    id: RoundId,
    to: RoundState,
    actor: &Actor,
) -> Result<Round, RoundError> {
    let round = app.round(id).await?;
    if round.state.next() != Some(to) {
        return Err(RoundError::InvalidTransition {
            from: round.state,
            to,
        });
    }
    let now = app.now();
    let store = app.store();
    match to {
        RoundState::Open => {
            if let Some(other) = store
                .rounds()
                .await?
                .into_iter()
                .find(|r| r.state == RoundState::Open)
            {
                return Err(RoundError::AnotherRoundOpen(other.label.to_string()));
            }
            store
                .transition_round(id, round.state, to, actor, now)
                .await?;
        }
        RoundState::Finalized => {
            let (method, ranking) = preview_ranking(app, &round).await?;
            let proposals = accountability::propose(app, &round, &ranking).await?;
            store
                .finalize_round(id, &FrozenRanking { method, ranking }, actor, now)
                .await?;
            let rules = serde_json::to_string(app.rules()).unwrap_or_default();
            store.record_proposals(id, &rules, &proposals).await?;
        }
        RoundState::Published => {
            store
                .transition_round(id, round.state, to, actor, now)
                .await?;
            store.start_sanctions(id, app.today()).await?;
        }
        _ => {
            store
                .transition_round(id, round.state, to, actor, now)
                .await?
        }
    }
    app.rounds_changed();
    Ok(app.round(id).await?)
}

/// Ranks a round from its stored ballots with the method its settings define. A unit with
/// a report substantiated from the first day of the round's quarter up to today is placed
/// first.
pub async fn preview_ranking(app: &App, round: &Round) -> Result<(Method, Ranking), RoundError> {
    let method = Method::weighted_nominations(&round.settings);
    let tallies = app
        .store()
        .tallies(round.id, round.settings.indicators.len())
        .await?;
    let window = Window {
        from: round.label.first_day(),
        to: app.today(),
    };
    let concluded: Vec<_> = app
        .store()
        .substantiated_between(window.from, window.to)
        .await?
        .into_iter()
        .map(|(unit, on)| (unit, ReportState::Substantiated, on))
        .collect();
    let ranking = ranking::rank(&tallies, &method, &substantiated_in(window, &concluded));
    Ok((method, ranking))
}

/// The ranking of a closed round as it would be frozen now (organizer).
pub async fn preview(app: &App, id: RoundId) -> Result<(Round, Ranking), RoundError> {
    let round = app.round(id).await?;
    if matches!(round.state, RoundState::Draft | RoundState::Open) {
        return Err(RoundError::NotClosed);
    }
    let (_, ranking) = preview_ranking(app, &round).await?;
    Ok((round, ranking))
}

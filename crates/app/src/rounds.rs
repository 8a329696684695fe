//! Rounds (评议轮次): creating one for a period, and moving it through
//! `draft → open → closed → finalized → published`. Finalizing freezes the ranking with its
//! method, records the reports it counted and proposes the sanctions the rules give it, in
//! one transaction; publishing starts those sanctions, in one transaction.

use crate::{
    App, accountability,
    error::{ErrorKind, WorkflowError},
};
use chrono::NaiveDate;
use minping_domain::{
    Method, Period, PeriodError, Ranking, Round, RoundId, RoundState, Tally, ranking,
    report::{Counted, counted_in_round},
};
use minping_storage::{Actor, Finalization, FrozenRanking, StorageError};

/// Why a round could not be created or moved.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// No such round.
    #[error("no such round")]
    NotFound,
    /// The label is not a period.
    #[error("{0}")]
    InvalidLabel(#[from] PeriodError),
    /// A state name that does not exist.
    #[error("unknown round state `{0}`")]
    UnknownState(String),
    /// The period overlaps another round's: rounds never overlap.
    #[error("the period overlaps round {0}")]
    Overlaps(String),
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
    /// Ballots held by the stuffing scan await the organizer's decision: the ranking is
    /// frozen only once every held cluster is released or kept out.
    #[error("{0} held ballots await review: release or keep out each cluster before finalizing")]
    UnreviewedHolds(u64),
    /// Second uses of codes await the organizer's decision: until decided a conflict keeps
    /// the code's digest beside its content, so the ranking is frozen only once none waits.
    #[error(
        "{0} conflicts (codes used twice) await a decision: count or dismiss each before finalizing"
    )]
    PendingConflicts(u64),
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
            RoundError::Overlaps(_) => "period_overlaps",
            RoundError::InvalidTransition { .. } => "invalid_transition",
            RoundError::AnotherRoundOpen(_) => "another_round_open",
            RoundError::NotClosed => "round_not_closed",
            RoundError::UnreviewedHolds(_) => "unreviewed_holds",
            RoundError::PendingConflicts(_) => "pending_conflicts",
            RoundError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            RoundError::NotFound => ErrorKind::NotFound,
            RoundError::InvalidLabel(_) | RoundError::UnknownState(_) => ErrorKind::Invalid,
            RoundError::Overlaps(_)
            | RoundError::InvalidTransition { .. }
            | RoundError::AnotherRoundOpen(_)
            | RoundError::NotClosed
            | RoundError::UnreviewedHolds(_)
            | RoundError::PendingConflicts(_) => ErrorKind::Conflict,
            RoundError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            RoundError::InvalidLabel(_) | RoundError::Overlaps(_) => Some("label".into()),
            RoundError::UnknownState(_) | RoundError::InvalidTransition { .. } => Some("to".into()),
            _ => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            RoundError::InvalidLabel(e) => vec![("label", e.0.clone())],
            RoundError::UnknownState(s) => vec![("state", s.clone())],
            RoundError::Overlaps(l) | RoundError::AnotherRoundOpen(l) => {
                vec![("label", l.clone())]
            }
            RoundError::InvalidTransition { from, to } => {
                vec![("from", from.to_string()), ("to", to.to_string())]
            }
            RoundError::UnreviewedHolds(n) | RoundError::PendingConflicts(n) => {
                vec![("count", n.to_string())]
            }
            RoundError::Storage(e) => e.params(),
            _ => Vec::new(),
        }
    }
}

/// Creates a draft round for a period as typed (`2026Q4`, `2026H1`,
/// `2026-01-15..2026-05-31`), with the deployment's current settings. Its period may not
/// overlap another round's; a quarter may be skipped.
pub async fn create(app: &App, label: &str, actor: &Actor) -> Result<Round, RoundError> {
    let period: Period = label.parse()?;
    let overlapping = |rounds: Vec<Round>| {
        rounds
            .into_iter()
            .find(|r| r.period.overlaps(period))
            .map(|r| RoundError::Overlaps(r.period.to_string()))
    };
    if let Some(clash) = overlapping(app.store().rounds().await?) {
        return Err(clash);
    }
    match app
        .store()
        .create_round(period, &app.settings().round_settings(), actor, app.now())
        .await
    {
        // Another node created an overlapping round between the check and the insert: the
        // database refused it.
        Err(StorageError::Conflict(_)) => Err(overlapping(app.store().rounds().await?)
            .unwrap_or_else(|| RoundError::Overlaps(period.to_string()))),
        other => Ok(other?),
    }
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
    let store = app.store();
    match to {
        RoundState::Open => {
            let open = || async {
                store
                    .rounds()
                    .await
                    .map(|rounds| rounds.into_iter().find(|r| r.state == RoundState::Open))
            };
            if let Some(other) = open().await? {
                return Err(RoundError::AnotherRoundOpen(other.period.to_string()));
            }
            match store
                .transition_round(id, round.state, to, actor, app.now())
                .await
            {
                // Opened on another node meanwhile: the database keeps one open round.
                Err(StorageError::Conflict(_)) if open().await?.is_some_and(|r| r.id != id) => {
                    let other = open().await?.map(|r| r.period.to_string());
                    return Err(RoundError::AnotherRoundOpen(other.unwrap_or_default()));
                }
                other => other?,
            }
        }
        RoundState::Finalized => {
            let unreviewed = crate::integrity::unreviewed(app, id).await?;
            if unreviewed > 0 {
                return Err(RoundError::UnreviewedHolds(unreviewed));
            }
            let pending = store
                .conflicts(id)
                .await?
                .iter()
                .filter(|c| c.state == "pending")
                .count() as u64;
            if pending > 0 {
                return Err(RoundError::PendingConflicts(pending));
            }
            let (method, ranking, counted) = rank(app, &round).await?;
            let proposals = accountability::propose(app, &round, &ranking).await?;
            let finalization = Finalization {
                frozen: FrozenRanking { method, ranking },
                rules: serde_json::to_string(app.rules())
                    .map_err(|e| RoundError::Storage(StorageError::Corrupt(e.to_string())))?,
                proposals,
                counted_reports: counted.reports,
            };
            store
                .finalize_round(id, &finalization, actor, app.now())
                .await?;
        }
        RoundState::Published => {
            store
                .publish_round(id, app.today(), actor, app.now())
                .await?;
        }
        RoundState::Closed => {
            store
                .transition_round(id, round.state, to, actor, app.now())
                .await?;
            // Always scanned at close, over every ballot the round took. A failed scan does
            // not undo the close: it is logged and can be run again before finalizing.
            if let Err(e) = crate::integrity::scan(app, id).await {
                tracing::error!(round = id.0, "integrity scan at close failed: {e}");
            }
        }
        _ => {
            store
                .transition_round(id, round.state, to, actor, app.now())
                .await?
        }
    }
    app.rounds_changed();
    Ok(app.round(id).await?)
}

/// The day the last round other than `id` was finalized, if any.
async fn previous_finalization(app: &App, id: RoundId) -> Result<Option<NaiveDate>, RoundError> {
    let mut last = None;
    for r in app.store().rounds().await? {
        if r.id == id || !matches!(r.state, RoundState::Finalized | RoundState::Published) {
            continue;
        }
        let finalized = app
            .store()
            .transitions(r.id)
            .await?
            .into_iter()
            .filter(|t| t.to == RoundState::Finalized)
            .map(|t| app.day_of(t.at))
            .max();
        last = last.max(finalized);
    }
    Ok(last)
}

/// Ranks a round from its stored ballots with the method its settings define, as it would
/// be frozen today: every unit with a substantiated report the round counts (see
/// [`Counted`]) at rank 1.
async fn rank(app: &App, round: &Round) -> Result<(Method, Ranking, Counted), RoundError> {
    let tallies = app
        .store()
        .tallies(round.id, round.settings.indicators.len())
        .await?;
    rank_counted(app, round, &tallies).await
}

/// Ranks each set of tallies as the round is (or would be) ranked, for "what if" rankings
/// such as counting held ballots too: a frozen round with its frozen method and counted
/// reports. The method and reports are read once for all the sets.
pub(crate) async fn rank_each(
    app: &App,
    round: &Round,
    sets: &[&[Tally]],
) -> Result<Vec<Ranking>, RoundError> {
    let (method, reports) = match app.store().frozen_ranking(round.id).await? {
        Some(frozen) => {
            let reports = frozen
                .ranking
                .entries
                .iter()
                .filter(|e| e.substantiated_reports > 0)
                .map(|e| (e.unit_id, e.substantiated_reports))
                .collect();
            (frozen.method, reports)
        }
        None => {
            let (method, _, counted) = rank_counted(app, round, &[]).await?;
            (method, counted.per_unit)
        }
    };
    Ok(sets
        .iter()
        .map(|tallies| ranking::rank(tallies, &method, &reports))
        .collect())
}

async fn rank_counted(
    app: &App,
    round: &Round,
    tallies: &[Tally],
) -> Result<(Method, Ranking, Counted), RoundError> {
    let method = Method::weighted_nominations(&round.settings);
    let today = app.today();
    let uncounted = app.store().uncounted_substantiated(today).await?;
    let previous = previous_finalization(app, round.id).await?;
    let counted = counted_in_round(&uncounted, round.period, previous, today);
    let ranking = ranking::rank(tallies, &method, &counted.per_unit);
    Ok((method, ranking, counted))
}

/// The ranking of a closed round as it would be frozen now, or of a finalized one as it was
/// frozen (organizer).
pub async fn preview(app: &App, id: RoundId) -> Result<(Round, Ranking), RoundError> {
    let round = app.round(id).await?;
    match round.state {
        RoundState::Draft | RoundState::Open => Err(RoundError::NotClosed),
        RoundState::Closed => {
            let (_, ranking, _) = rank(app, &round).await?;
            Ok((round, ranking))
        }
        RoundState::Finalized | RoundState::Published => {
            let frozen = app
                .store()
                .frozen_ranking(id)
                .await?
                .ok_or(RoundError::NotFound)?;
            Ok((round, frozen.ranking))
        }
    }
}

//! Integrity of the open channel: the stuffing scan (run continuously while a round is
//! open, on demand, and always at close), the quarantine it fills, and the organizer's
//! decisions on each cluster. The method is [`minping_domain::integrity`]; `/method`
//! explains it in plain words.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
    rounds,
};
use minping_domain::{
    RoundId, RoundState, UnitId,
    integrity::{self, Params},
};
use minping_storage::{Actor, Decision, DecisionRecord, HeldBallot, StorageError, StoredCluster};
use serde::Serialize;
use std::{collections::BTreeSet, time::Duration};
use utoipa::ToSchema;

/// Why an integrity workflow could not be done.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    /// No such round.
    #[error("no such round")]
    RoundNotFound,
    /// The round has no ballots to scan yet, or its signals are gone (published).
    #[error("a round is scanned while it is open or closed, before it is finalized")]
    NotScannable,
    /// No such cluster in the round, or nothing left to decide in it.
    #[error("no such cluster in this round, or none of its ballots awaits a decision")]
    ClusterNotFound,
    /// A decision needs a reason.
    #[error("say why: a decision on held ballots needs a reason")]
    ReasonRequired,
    /// Decisions are taken before the ranking is frozen.
    #[error("the round's ranking is frozen: held ballots can no longer be released")]
    Frozen,
    /// Storage failed.
    #[error("{0}")]
    Storage(#[from] StorageError),
}

impl WorkflowError for IntegrityError {
    fn code(&self) -> &'static str {
        match self {
            IntegrityError::RoundNotFound => "round_not_found",
            IntegrityError::NotScannable => "round_not_scannable",
            IntegrityError::ClusterNotFound => "cluster_not_found",
            IntegrityError::ReasonRequired => "reason_required",
            IntegrityError::Frozen => "round_frozen",
            IntegrityError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            IntegrityError::RoundNotFound | IntegrityError::ClusterNotFound => ErrorKind::NotFound,
            IntegrityError::NotScannable | IntegrityError::Frozen => ErrorKind::Conflict,
            IntegrityError::ReasonRequired => ErrorKind::Invalid,
            IntegrityError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        matches!(self, IntegrityError::ReasonRequired).then(|| "reason".into())
    }
}

fn round_error(e: StorageError) -> IntegrityError {
    match e {
        StorageError::NotFound => IntegrityError::RoundNotFound,
        e => IntegrityError::Storage(e),
    }
}

/// What a scan found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScanSummary {
    /// The round.
    pub round_id: i64,
    /// Open-channel ballots with signals the scan looked at.
    pub scanned: u64,
    /// Clusters found.
    pub clusters: usize,
    /// Ballots held and awaiting the organizer's review.
    pub held: u64,
    /// Ballots the organizer kept out.
    pub kept: u64,
    /// Ballots the organizer released.
    pub released: u64,
}

/// Runs the scan over a round now and records what it holds. A round is scanned while it is
/// open or closed; once finalized its ranking is frozen, and once published its signals are
/// deleted.
pub async fn scan(app: &App, round_id: RoundId) -> Result<ScanSummary, IntegrityError> {
    let round = app.round(round_id).await.map_err(round_error)?;
    if !matches!(round.state, RoundState::Open | RoundState::Closed) {
        return Err(IntegrityError::NotScannable);
    }
    let store = app.store();
    let (observed, population) = store.integrity_input(round_id).await?;
    let scanned = observed.len() as u64;
    // CPU work: off the async workers, so intake keeps flowing during a big scan.
    let found = tokio::task::spawn_blocking(move || {
        integrity::scan(&observed, &population, &Params::default())
    })
    .await
    .map_err(|e| IntegrityError::Storage(StorageError::Corrupt(format!("scan failed: {e}"))))?;
    store.record_scan(round_id, &found, app.now()).await?;
    let clusters = store.clusters(round_id).await?;
    tracing::info!(
        round = round_id.0,
        scanned,
        clusters = found.len(),
        "integrity scan"
    );
    Ok(ScanSummary {
        round_id: round_id.0,
        scanned,
        clusters: found.len(),
        held: clusters.iter().map(|c| c.held).sum(),
        kept: clusters.iter().map(|c| c.kept).sum(),
        released: clusters.iter().map(|c| c.released).sum(),
    })
}

/// The ballots a round holds, by receipt and cluster (organizer).
pub async fn quarantine(app: &App, round_id: RoundId) -> Result<Vec<HeldBallot>, IntegrityError> {
    app.round(round_id).await.map_err(round_error)?;
    Ok(app.store().held_ballots(round_id).await?)
}

/// Releases (counts) or keeps out every held ballot of a cluster, with a reason; the
/// decision is recorded with who took it. Returns how many ballots it covered.
pub async fn decide(
    app: &App,
    round_id: RoundId,
    cluster: &str,
    decision: Decision,
    reason: &str,
    actor: &Actor,
) -> Result<u64, IntegrityError> {
    let round = app.round(round_id).await.map_err(round_error)?;
    if matches!(round.state, RoundState::Finalized | RoundState::Published) {
        return Err(IntegrityError::Frozen);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(IntegrityError::ReasonRequired);
    }
    let n = app
        .store()
        .decide_cluster(round_id, cluster.trim(), decision, reason, actor, app.now())
        .await?;
    if n == 0 {
        return Err(IntegrityError::ClusterNotFound);
    }
    tracing::info!(
        round = round_id.0,
        cluster,
        decision = decision.as_str(),
        ballots = n,
        "integrity decision"
    );
    Ok(n)
}

/// A round's integrity as the organizer and the results page see it.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The clusters, largest first.
    pub clusters: Vec<StoredCluster>,
    /// Every decision taken, oldest first.
    pub decisions: Vec<DecisionRecord>,
    /// Ballots held awaiting review.
    pub unreviewed: u64,
    /// Ballots not counted: awaiting review or kept out.
    pub held: u64,
    /// Whether counting every held ballot would change which units make the top N.
    pub release_changes_top_n: bool,
}

/// Ballots the scan holds in a round that await the organizer's review.
pub async fn unreviewed(app: &App, round_id: RoundId) -> Result<u64, StorageError> {
    Ok(app
        .store()
        .clusters(round_id)
        .await?
        .iter()
        .map(|c| c.held)
        .sum())
}

/// The round's clusters, decisions and what the holds change.
pub async fn overview(app: &App, round_id: RoundId) -> Result<Overview, IntegrityError> {
    let round = app.round(round_id).await.map_err(round_error)?;
    let store = app.store();
    let clusters = store.clusters(round_id).await?;
    let decisions = store.integrity_decisions(round_id).await?;
    let unreviewed: u64 = clusters.iter().map(|c| c.held).sum();
    let held: u64 = clusters.iter().map(StoredCluster::not_counted).sum();
    let release_changes_top_n = held > 0 && top_n_changes(app, &round).await?;
    Ok(Overview {
        clusters,
        decisions,
        unreviewed,
        held,
        release_changes_top_n,
    })
}

async fn top_n_changes(app: &App, round: &minping_domain::Round) -> Result<bool, IntegrityError> {
    let indicators = round.settings.indicators.len();
    let counted = app.store().tallies(round.id, indicators).await?;
    let held = app.store().held_tallies(round.id, indicators).await?;
    let with_held = minping_domain::ranking::merge_tallies(&counted, &held);
    let rankings = rounds::rank_each(app, round, &[&counted, &with_held])
        .await
        .map_err(|e| match e {
            rounds::RoundError::Storage(e) => IntegrityError::Storage(e),
            e => IntegrityError::Storage(StorageError::Corrupt(e.to_string())),
        })?;
    let tops: Vec<BTreeSet<UnitId>> = rankings
        .iter()
        .map(|r| {
            r.entries
                .iter()
                .filter(|e| e.rank <= r.top_n)
                .map(|e| e.unit_id)
                .collect()
        })
        .collect();
    Ok(tops[0] != tops[1])
}

/// Scans the open round every `every` while ballots keep arriving (a scan is skipped when
/// none came since the last). Runs until the process stops; errors are logged and retried.
pub async fn watch(app: &App, every: Duration) {
    let mut last: Option<(RoundId, u64)> = None;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let open = match app.store().rounds().await {
            Ok(rounds) => rounds.into_iter().find(|r| r.state == RoundState::Open),
            Err(e) => {
                tracing::warn!("integrity watch: {e}");
                continue;
            }
        };
        let Some(round) = open else { continue };
        let count = match app.store().ballot_count(round.id).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("integrity watch: {e}");
                continue;
            }
        };
        if last == Some((round.id, count)) {
            continue;
        }
        match scan(app, round.id).await {
            Ok(_) => last = Some((round.id, count)),
            Err(e) => tracing::warn!("integrity watch: {e}"),
        }
    }
}

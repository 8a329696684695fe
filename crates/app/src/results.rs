//! A round's results as people read them: the ranking with each unit's name, agency and
//! indicator breakdown, the method, and who may see them when.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{
    Ranking, Receipt, Round, RoundId, RoundState, UnitId, receipt::CountedReceipts,
};
use minping_storage::StorageError;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// One line of a ranking.
#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct ResultRow {
    /// 1 is the hardest to deal with; tied units share a rank.
    pub rank: u32,
    /// The unit's id.
    pub unit_id: i64,
    /// The unit's name.
    pub unit: String,
    /// Its agency's name.
    pub agency: String,
    /// Weighted nominations.
    pub score: f64,
    /// Ballots naming the unit.
    pub nominations: u64,
    /// Nominations per channel (`directed`, `open`), so the score can be recomputed with other
    /// channel weights.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub by_channel: BTreeMap<String, u64>,
    /// Nominations ticking each indicator, by code (`cold`, `lazy`, `shirking`, `arbitrary`, `greedy`).
    #[schema(value_type = BTreeMap<String, u64>)]
    pub indicators: BTreeMap<String, u64>,
    /// `substantiated_report` when a substantiated report placed the unit; else null.
    pub r#override: Option<String>,
    /// Whether the unit is in the published top N.
    pub top: bool,
}

impl ResultRow {
    /// Nominations ticking the indicator `code`.
    pub fn count(&self, code: &str) -> u64 {
        self.indicators.get(code).copied().unwrap_or(0)
    }
}

/// A frozen round's results.
#[derive(Debug, Clone)]
pub struct Results {
    /// The round.
    pub round: Round,
    /// The method and its parameters, enough to recompute the ranking.
    pub method: serde_json::Value,
    /// Ballots counted.
    pub ballots: u64,
    /// Ballots the stuffing scan holds out of the count (awaiting review or kept out).
    pub held: u64,
    /// Whether counting the held ballots would change which units make the top N.
    pub held_changes_top_n: bool,
    /// Every ranked unit, in rank order.
    pub ranking: Vec<ResultRow>,
}

/// Ranking lines with unit and agency names.
pub async fn rows(
    app: &App,
    round: &Round,
    ranking: &Ranking,
) -> Result<Vec<ResultRow>, StorageError> {
    // The units as the round closed: a later rename or retirement does not rewrite it.
    let units = match app.store().org_snapshot(round.id).await? {
        Some(snapshot) => snapshot.units,
        None => app.store().units().await?,
    };
    let units: HashMap<UnitId, _> = units.into_iter().map(|u| (u.id, u)).collect();
    Ok(ranking
        .entries
        .iter()
        .map(|e| {
            let unit = units.get(&e.unit_id);
            ResultRow {
                rank: e.rank,
                unit_id: e.unit_id.0,
                unit: unit.map_or_else(|| format!("#{}", e.unit_id), |u| u.name.clone()),
                agency: unit.map(|u| u.agency.clone()).unwrap_or_default(),
                score: e.score(),
                nominations: e.nominations,
                by_channel: e
                    .by_channel
                    .iter()
                    .map(|(c, n)| (c.to_string(), *n))
                    .collect(),
                indicators: round
                    .settings
                    .indicators
                    .iter()
                    .zip(&e.indicator_counts)
                    .map(|(i, c)| (i.code.clone(), *c))
                    .collect(),
                r#override: e.r#override.map(|_| "substantiated_report".to_string()),
                top: e.rank <= ranking.top_n,
            }
        })
        .collect())
}

/// The results of a frozen round; `None` if the round is not finalized or published.
pub async fn of(app: &App, round: &Round) -> Result<Option<Results>, StorageError> {
    let Some(frozen) = app.store().frozen_ranking(round.id).await? else {
        return Ok(None);
    };
    let integrity = crate::integrity::overview(app, round.id)
        .await
        .map_err(|e| match e {
            crate::integrity::IntegrityError::Storage(e) => e,
            e => StorageError::Corrupt(e.to_string()),
        })?;
    Ok(Some(Results {
        round: round.clone(),
        method: serde_json::to_value(&frozen.method).unwrap_or_default(),
        ballots: app
            .store()
            .ballot_count(round.id)
            .await?
            .saturating_sub(integrity.held),
        held: integrity.held,
        held_changes_top_n: integrity.release_changes_top_n,
        ranking: rows(app, round, &frozen.ranking).await?,
    }))
}

/// Who is asking for a round's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Anyone.
    Public,
    /// The organizer or a leader, who also see finalized rounds before publication.
    Insider,
}

/// Why a round's results cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// No such round, or none the reader may see: to the public an unpublished round does not
    /// exist.
    #[error("not found")]
    NotFound,
    /// The round is published, but the rules it was finalized under keep its list internal
    /// (`[publication] publish_top_n = false`): circulated to the agencies, not published.
    #[error("this round's results were circulated to the agencies, not published")]
    Withheld,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl WorkflowError for ResultsError {
    fn code(&self) -> &'static str {
        match self {
            ResultsError::NotFound => "not_found",
            ResultsError::Withheld => "results_withheld",
            ResultsError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            ResultsError::NotFound | ResultsError::Withheld => ErrorKind::NotFound,
            ResultsError::Storage(e) => e.kind(),
        }
    }
}

/// The rounds whose results everyone may see: published, under rules that publish them, in
/// the store's order (newest first).
pub async fn public_rounds(app: &App) -> Result<Vec<Round>, StorageError> {
    let mut public = Vec::new();
    for round in app.store().rounds().await? {
        if round.state == RoundState::Published
            && app.rules_of(round.id).await?.publication.publish_top_n
        {
            public.push(round);
        }
    }
    Ok(public)
}

/// A round's results as `reader` may see them: a published round for everyone (unless its
/// rules keep the list internal), a finalized one for insiders too.
pub async fn visible(app: &App, id: RoundId, reader: Reader) -> Result<Results, ResultsError> {
    let round = evaluated_round(app, id, reader).await?;
    if reader == Reader::Public && !app.rules_of(id).await?.publication.publish_top_n {
        return Err(ResultsError::Withheld);
    }
    of(app, &round).await?.ok_or(ResultsError::NotFound)
}

/// A round's counted receipts as published ([`CountedReceipts`]): everyone sees them once the
/// round is published (they say nothing of the ranking, so even a round whose list is kept
/// internal publishes them), insiders from finalization, when the 通报 that prints their root
/// is drafted.
pub async fn counted_receipts(
    app: &App,
    id: RoundId,
    reader: Reader,
) -> Result<(Round, CountedReceipts), ResultsError> {
    let round = evaluated_round(app, id, reader).await?;
    let receipts: Vec<Receipt> = app
        .store()
        .counted_receipts(id)
        .await?
        .into_iter()
        .map(Receipt::from_stored)
        .collect();
    Ok((round, CountedReceipts::of(&receipts)))
}

/// A round whose evaluation `reader` may see: published for everyone, finalized for insiders
/// too; to anyone else it does not exist.
async fn evaluated_round(app: &App, id: RoundId, reader: Reader) -> Result<Round, ResultsError> {
    let round = app.store().round(id).await?.ok_or(ResultsError::NotFound)?;
    let visible = round.state == RoundState::Published
        || (reader == Reader::Insider && round.state == RoundState::Finalized);
    if visible {
        Ok(round)
    } else {
        Err(ResultsError::NotFound)
    }
}

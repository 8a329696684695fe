//! Published results: the ranking with each unit's indicator breakdown and the method.

use super::{ApiPath, rounds::RoundBody};
use crate::{
    auth::{CurrentUser, ORGANIZER_OR_LEADER, role_bit},
    error::ApiError,
    state::{AppState, Shared},
};
use axum::{Json, extract::State};
use minping_domain::{Ranking, Round, RoundId, RoundState, UnitId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// One line of a ranking.
#[derive(Serialize, ToSchema, Clone)]
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
    /// Nominations ticking each indicator, by code (`cold`, `lazy`, `shirking`, `arbitrary`, `greedy`).
    #[schema(value_type = BTreeMap<String, u64>)]
    pub indicators: BTreeMap<String, u64>,
    /// `substantiated_report` when a substantiated report placed the unit; else null.
    pub r#override: Option<String>,
    /// Whether the unit is in the published top N.
    pub top: bool,
}

/// A round's results.
#[derive(Serialize, ToSchema)]
pub struct ResultsBody {
    /// The round.
    pub round: RoundBody,
    /// The method and its parameters, enough to recompute the ranking.
    #[schema(value_type = Object)]
    pub method: serde_json::Value,
    /// Ballots counted.
    pub ballots: u64,
    /// Every ranked unit, in rank order.
    pub ranking: Vec<ResultRow>,
}

/// Ranking lines with unit and agency names.
pub async fn rows(
    state: &AppState,
    round: &Round,
    ranking: &Ranking,
) -> Result<Vec<ResultRow>, ApiError> {
    let units: HashMap<UnitId, _> = state
        .store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
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
pub async fn results_body(
    state: &AppState,
    round: &Round,
) -> Result<Option<ResultsBody>, ApiError> {
    let Some(frozen) = state.store.frozen_ranking(round.id).await? else {
        return Ok(None);
    };
    Ok(Some(ResultsBody {
        round: RoundBody::from(round),
        method: serde_json::to_value(&frozen.method).unwrap_or_default(),
        ballots: state.store.ballot_count(round.id).await?,
        ranking: rows(state, round, &frozen.ranking).await?,
    }))
}

/// A published round's results, public. The organizer and leaders also see finalized
/// rounds before publication; to everyone else an unpublished round does not exist.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/results", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = ResultsBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_results(
    State(state): State<Shared>,
    user: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResultsBody>, ApiError> {
    let round = state.round(RoundId(id)).await?;
    let insider = user
        .0
        .is_some_and(|u| role_bit(u.role) & ORGANIZER_OR_LEADER != 0);
    let visible =
        round.state == RoundState::Published || (insider && round.state == RoundState::Finalized);
    if !visible {
        return Err(ApiError::not_found());
    }
    results_body(&state, &round)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

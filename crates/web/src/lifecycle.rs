//! Moving a round through `draft → open → closed → finalized → published`, shared by the
//! console and the API. Finalizing freezes the ranking with its method.

use crate::{error::ApiError, state::AppState};
use axum::http::StatusCode;
use chrono::Utc;
use minping_domain::{
    Method, Ranking, Round, RoundId, RoundState, ranking,
    report::{ReportState, Window, substantiated_in},
};
use minping_storage::{Actor, FrozenRanking};

/// Ranks a round from its stored ballots with the method its settings define. A unit with
/// a report substantiated from the first day of the round's quarter up to today is placed
/// first (the default override window).
pub async fn compute_ranking(
    state: &AppState,
    round: &Round,
) -> Result<(Method, Ranking), ApiError> {
    let method = Method::weighted_nominations(&round.settings);
    let tallies = state
        .store
        .tallies(round.id, round.settings.indicators.len())
        .await?;
    let from = chrono::NaiveDate::from_ymd_opt(
        i32::from(round.label.year()),
        u32::from(round.label.quarter()) * 3 - 2,
        1,
    )
    .expect("a quarter's first day exists");
    let window = Window {
        from,
        to: state.today(),
    };
    let concluded: Vec<_> = state
        .store
        .substantiated_between(window.from, window.to)
        .await?
        .into_iter()
        .map(|(unit, on)| (unit, ReportState::Substantiated, on))
        .collect();
    let ranking = ranking::rank(&tallies, &method, &substantiated_in(window, &concluded));
    Ok((method, ranking))
}

/// Moves a round one step to `to`. Only one round may be open at a time, so a ballot
/// can never be cast into the wrong quarter by mistake.
pub async fn advance(
    state: &AppState,
    id: RoundId,
    to: RoundState,
    actor: &Actor,
) -> Result<Round, ApiError> {
    let round = state.round(id).await?;
    if round.state.next() != Some(to) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            format!("a {} round cannot become {to}", round.state),
        )
        .with_field("to"));
    }
    let now = Utc::now();
    match to {
        RoundState::Open => {
            let rounds = state.store.rounds().await?;
            if let Some(other) = rounds.iter().find(|r| r.state == RoundState::Open) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "another_round_open",
                    format!("round {} is open; close it first", other.label),
                ));
            }
            state
                .store
                .transition_round(id, round.state, to, actor, now)
                .await?;
        }
        RoundState::Finalized => {
            let (method, ranking) = compute_ranking(state, &round).await?;
            let proposals = propose_sanctions(state, &round, &ranking).await?;
            state
                .store
                .finalize_round(id, &FrozenRanking { method, ranking }, actor, now)
                .await?;
            let rules = serde_json::to_string(&state.rules).unwrap_or_default();
            state.store.record_proposals(id, &rules, &proposals).await?;
        }
        RoundState::Published => {
            state
                .store
                .transition_round(id, round.state, to, actor, now)
                .await?;
            state.store.start_sanctions(id, state.today()).await?;
        }
        _ => {
            state
                .store
                .transition_round(id, round.state, to, actor, now)
                .await?
        }
    }
    state.rounds_changed();
    Ok(state.round(id).await?)
}

/// Runs the rules engine for a round about to be finalized, over the published rounds before
/// it. Sanctions are dated from the finalization day here and moved to the publication day
/// when the round is published.
async fn propose_sanctions(
    state: &AppState,
    round: &Round,
    ranking: &Ranking,
) -> Result<Vec<minping_domain::rules::ProposedSanction>, ApiError> {
    use minping_domain::rules::{EngineInput, PastRound, RoundToFinalize, propose};
    let tz = state.settings.tz();
    let mut history = Vec::new();
    for r in state.store.rounds().await? {
        if r.state != RoundState::Published || r.label >= round.label {
            continue;
        }
        let Some(frozen) = state.store.frozen_ranking(r.id).await? else {
            continue;
        };
        let published_on = state
            .store
            .transitions(r.id)
            .await?
            .iter()
            .find(|t| t.to == RoundState::Published)
            .map_or_else(|| state.today(), |t| t.at.with_timezone(&tz).date_naive());
        history.push(PastRound::from_ranking(
            r.label,
            published_on,
            &frozen.ranking,
        ));
    }
    let posts = state.store.posts().await?;
    let retired = state
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| !u.active)
        .map(|u| u.id)
        .collect();
    let this = RoundToFinalize::from_ranking(round.label, state.today(), ranking);
    Ok(propose(
        &state.rules,
        &EngineInput {
            round: &this,
            history: &history,
            posts: &posts,
            retired: &retired,
        },
    ))
}

//! The organizer's review of the ballots the stuffing scan holds: each cluster with what was
//! seen, released (counted) or kept out with a reason, and a scan on demand.

use super::{
    Page,
    console::{Flash, back},
    public::round_title,
    render,
};
use crate::{
    auth::{Authorized, ORGANIZER},
    csrf::CsrfForm,
    error::{Failure, PageError},
    i18n::Lang,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use minping_app::integrity;
use minping_domain::{RoundId, RoundState};
use minping_storage::Decision;
use serde::Deserialize;
use std::collections::HashMap;

/// One cluster as the page shows it.
struct ClusterView {
    id: String,
    unit: String,
    findings: Vec<String>,
    held: u64,
    kept: u64,
    released: u64,
}

/// One recorded decision.
struct DecisionView {
    cluster: String,
    decision: String,
    ballots: u64,
    actor: String,
    reason: String,
    at: String,
}

#[derive(Template)]
#[template(path = "console/quarantine.html")]
struct QuarantinePage {
    page: Page,
    flash: Flash,
    id: i64,
    title: String,
    /// Whether the round can still be scanned and its clusters decided (it is open or
    /// closed: the ranking is not frozen).
    reviewable: bool,
    unreviewed: u64,
    held: u64,
    release_changes_top_n: bool,
    clusters: Vec<ClusterView>,
    decisions: Vec<DecisionView>,
}

pub async fn show(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    flash: Flash,
) -> Result<Response, PageError> {
    let round = state.round(RoundId(id)).await?;
    let overview = integrity::overview(&state, round.id).await?;
    let names: HashMap<_, _> = state
        .store()
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let en = page.en();
    let tz = state.settings().tz();
    let clusters = overview
        .clusters
        .iter()
        .map(|c| {
            let unit = names.get(&c.unit).cloned().unwrap_or_default();
            ClusterView {
                id: c.id.clone(),
                findings: c
                    .findings
                    .iter()
                    .map(|f| {
                        let named = names.get(&f.unit).map_or("?", String::as_str);
                        if en {
                            f.describe_en(named)
                        } else {
                            f.describe_zh(named)
                        }
                    })
                    .collect(),
                unit,
                held: c.held,
                kept: c.kept,
                released: c.released,
            }
        })
        .collect();
    let decisions = overview
        .decisions
        .iter()
        .map(|d| DecisionView {
            cluster: d.cluster.clone(),
            decision: d.decision.clone(),
            ballots: d.ballots,
            actor: d.actor.clone(),
            reason: d.reason.clone(),
            at: d.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect();
    render(QuarantinePage {
        id,
        title: round_title(&round, en),
        reviewable: matches!(round.state, RoundState::Open | RoundState::Closed),
        unreviewed: overview.unreviewed,
        held: overview.held,
        release_changes_top_n: overview.release_changes_top_n,
        clusters,
        decisions,
        page,
        flash,
    })
}

pub async fn scan(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let outcome = integrity::scan(&state, RoundId(id)).await.map(|s| {
        lang.t("quarantine.scanned")
            .replace("{scanned}", &s.scanned.to_string())
            .replace("{clusters}", &s.clusters.to_string())
            .replace("{held}", &s.held.to_string())
    });
    back(
        &format!("/console/rounds/{id}/quarantine"),
        lang,
        outcome.map_err(Failure::from),
    )
}

/// What the organizer decided for a cluster.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// Count its ballots.
    Release,
    /// Keep them out.
    Keep,
}

#[derive(Deserialize)]
pub struct DecisionForm {
    cluster: String,
    decision: Choice,
    reason: String,
}

pub async fn decide(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    let path = format!("/console/rounds/{id}/quarantine");
    let decision = match form.decision {
        Choice::Release => Decision::Release,
        Choice::Keep => Decision::Keep,
    };
    let outcome = integrity::decide(
        &state,
        RoundId(id),
        &form.cluster,
        decision,
        &form.reason,
        &who.actor(),
    )
    .await
    .map(|n| {
        lang.t(match decision {
            Decision::Release => "quarantine.released",
            Decision::Keep => "quarantine.kept",
        })
        .replace("{n}", &n.to_string())
    });
    back(&path, lang, outcome.map_err(Failure::from))
}

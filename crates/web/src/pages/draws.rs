//! The organizer's panel page for a round: freeze the frame, draw with the announced seed,
//! mailing, response tracking, and the conflict queue.

use super::{Page, public::round_title, render};
use crate::{
    auth::{Authorized, ORGANIZER},
    csrf::CsrfForm,
    download,
    error::{Failure, PageError},
    i18n::Lang,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use minping_app::{
    conflicts,
    draws::{self, response_rate},
    forms,
};
use minping_domain::RoundId;
use minping_storage::StratumCounts;
use serde::Deserialize;

use super::console::Flash;

/// Back to the round's panel page, carrying what happened.
fn back(round: i64, lang: Lang, outcome: Result<String, Failure>) -> Response {
    super::console::back(&format!("/console/rounds/{round}/panel"), lang, outcome)
}

struct Stratum {
    name: String,
    counts: StratumCounts,
    rate: String,
}

struct Kept {
    id: i64,
    response: String,
    received_on: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "console/round_panel.html")]
struct PanelPage {
    page: Page,
    flash: Flash,
    id: i64,
    title: String,
    default_size: usize,
    frame_hash: Option<String>,
    eligible: usize,
    sample_size: i64,
    seed: Option<String>,
    strata: Vec<Stratum>,
    conflicts: Vec<Kept>,
    /// Whether any form was mailed: printing again is then a reprint.
    mailed: bool,
    reprints: Vec<minping_storage::Reprint>,
    /// The signed-in organizer's name: the one who asked cannot approve.
    me: String,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{:.1}%", r * 100.0))
}

pub async fn show(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    flash: Flash,
) -> Result<Response, PageError> {
    let round = state.round(RoundId(id)).await?;
    let frozen = state.store().frame(round.id).await?;
    let response = draws::response(&state, round.id).await?;
    let mut strata: Vec<Stratum> = response
        .strata
        .iter()
        .map(|c| Stratum {
            name: state.settings().panel.group_name_zh(&c.group),
            rate: percent(response_rate(c)),
            counts: c.clone(),
        })
        .collect();
    if !response.strata.is_empty() {
        strata.push(Stratum {
            name: if page.en() {
                "Total".into()
            } else {
                "合计".into()
            },
            rate: percent(response.response_rate),
            counts: response.total.clone(),
        });
    }
    let conflicts = state
        .store()
        .conflicts(round.id)
        .await?
        .into_iter()
        .filter(|c| c.state == "pending")
        .map(|c| Kept {
            id: c.id,
            response: c.response.as_str().into(),
            received_on: c.received_on.to_string(),
            summary: c.content.chars().take(300).collect(),
        })
        .collect();
    let en = page.en();
    render(PanelPage {
        flash,
        id,
        title: round_title(&round, en),
        default_size: state.settings().panel.sample_size,
        eligible: frozen.as_ref().map_or(0, |f| f.frame.lines().count()),
        sample_size: frozen.as_ref().map_or(0, |f| f.sample_size),
        frame_hash: frozen.as_ref().map(|f| f.frame_hash.clone()),
        seed: frozen.and_then(|f| f.seed),
        mailed: response.total.mailed > 0
            || response.total.undeliverable > 0
            || response.total.refused > 0,
        reprints: forms::reprints(&state, round.id).await?,
        me: who.0.name.clone(),
        strata,
        conflicts,
        page,
    })
}

#[derive(Deserialize)]
pub struct FreezeForm {
    sample_size: usize,
}

pub async fn freeze(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<FreezeForm>,
) -> Response {
    let outcome = draws::freeze(&state, RoundId(id), Some(form.sample_size), &user.actor())
        .await
        .map(|f| f.frame_hash);
    back(id, lang, outcome.map_err(Failure::from))
}

#[derive(Deserialize)]
pub struct DrawForm {
    seed: String,
}

pub async fn draw(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DrawForm>,
) -> Response {
    let outcome = draws::draw_sample(&state, RoundId(id), &form.seed, &who.actor())
        .await
        .map(|d| d.members.len().to_string());
    back(id, lang, outcome.map_err(Failure::from))
}

pub async fn mailed(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let outcome = draws::record_mailing(&state, RoundId(id), &[], true, "mailed", &user.actor())
        .await
        .map(|n| n.to_string());
    back(id, lang, outcome.map_err(Failure::from))
}

#[derive(Deserialize)]
pub struct ResolveForm {
    count: String,
    reason: String,
    round: i64,
}

pub async fn resolve(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(conflict): Path<i64>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Response {
    let outcome = conflicts::resolve(
        &state,
        conflict,
        form.count == "true",
        &form.reason,
        &who.actor(),
    )
    .await;
    back(
        form.round,
        lang,
        outcome.map(|c| c.state).map_err(Failure::from),
    )
}

/// The mailing list in the post office's order (postcode, then address); `?pending=1`
/// lists only those who have not answered, for a reminder mailing.
pub async fn mailing_csv(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    Path(id): Path<i64>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let pending_only = q.contains_key("pending");
    let table = forms::mailing_list(&state, RoundId(id), pending_only, &user.actor()).await?;
    let name = if pending_only { "reminders" } else { "mailing" };
    Ok(download::attachment(
        download::CSV,
        &format!("round-{id}-{name}.csv"),
        table.to_csv(),
    ))
}

/// The round's personalised forms as one PDF, in the post office's order.
pub async fn forms_pdf(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let pdf = forms::personalised(&state, RoundId(id), &user.actor(), |_, _| {}).await?;
    Ok(download::attachment(
        download::PDF,
        &format!("round-{id}-forms.pdf"),
        pdf,
    ))
}

#[derive(Deserialize)]
pub struct ReprintForm {
    #[serde(default)]
    reason: String,
}

/// Asks to reprint the round's codes after mailing (organizer); a second organizer
/// approves.
pub async fn ask_reprint(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReprintForm>,
) -> Response {
    let outcome = forms::ask_reprint(&state, RoundId(id), &form.reason, &who.actor())
        .await
        .map(|r| format!("#{r}"));
    back(id, lang, outcome.map_err(Failure::from))
}

#[derive(Deserialize)]
pub struct ReprintDecisionForm {
    approve: String,
    round: i64,
}

/// Approves or refuses a reprint (an organizer other than the one who asked).
pub async fn decide_reprint(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(reprint): Path<i64>,
    CsrfForm(form): CsrfForm<ReprintDecisionForm>,
) -> Response {
    let outcome = forms::decide_reprint(&state, reprint, form.approve == "true", &who.actor())
        .await
        .map(|()| format!("#{reprint}"));
    back(form.round, lang, outcome.map_err(Failure::from))
}

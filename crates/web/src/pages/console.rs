//! The organizer console: the organisation, people and posts, rounds and their lifecycle.
//! Every action here is also in the API, for scripts.

use super::{Page, public::round_title, render};
use crate::{
    auth::{Authorized, ORGANIZER, STAFF},
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
use minping_app::{
    integrity, org,
    results::{self, ResultRow},
    rounds,
};
use minping_domain::{AgencyId, Period, PersonId, PostRole, RoundId, RoundState, UnitId};
use serde::Deserialize;
use std::collections::HashMap;

pub use super::flash::Flash;

/// Back to a console page, carrying what happened in the reader's language.
pub(super) fn back(path: &str, lang: Lang, outcome: Result<String, Failure>) -> Response {
    Flash::of(outcome.map_err(|e| e.in_words(lang))).redirect(path)
}

struct RoundLine {
    id: i64,
    label: String,
    title: String,
    state: String,
    ballots: u64,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    page: Page,
    flash: Flash,
    rounds: Vec<RoundLine>,
    units: usize,
    agencies: usize,
    /// The signed-in user's own API tokens.
    tokens: Vec<minping_storage::TokenInfo>,
    now: chrono::DateTime<chrono::Utc>,
}

pub async fn dashboard(
    State(state): State<Shared>,
    who: Authorized<STAFF>,
    page: Page,
    flash: Flash,
) -> Result<Response, PageError> {
    let en = page.en();
    let mut rounds = Vec::new();
    for r in state.store().rounds().await? {
        rounds.push(RoundLine {
            id: r.id.0,
            label: r.period.to_string(),
            title: round_title(&r, en),
            state: r.state.to_string(),
            ballots: state.store().ballot_count(r.id).await?,
        });
    }
    let units = state
        .store()
        .units()
        .await?
        .iter()
        .filter(|u| u.active)
        .count();
    let agencies = state.store().agencies().await?.len();
    let tokens = state.store().tokens(Some(who.0.id)).await?;
    render(Dashboard {
        page,
        flash,
        rounds,
        units,
        agencies,
        tokens,
        now: state.now(),
    })
}

#[derive(Deserialize)]
pub struct RevokeForm {
    token: String,
}

/// Revokes one of the signed-in user's own API tokens.
pub async fn revoke_token(
    State(state): State<Shared>,
    who: Authorized<STAFF>,
    lang: Lang,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Response {
    let outcome = minping_app::accounts::revoke_tokens(
        &state,
        &who.0.name,
        Some(form.token.trim()),
        &who.actor(),
    )
    .await
    .map(|_| form.token.trim().to_string());
    back("/console", lang, outcome.map_err(Failure::from))
}

struct AgencyUnits {
    id: i64,
    name: String,
    units: Vec<minping_domain::Unit>,
}

#[derive(Template)]
#[template(path = "console/units.html")]
struct Units {
    page: Page,
    flash: Flash,
    agencies: Vec<AgencyUnits>,
    unit_kind: String,
}

pub async fn units(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    flash: Flash,
) -> Result<Response, PageError> {
    let mut agencies: Vec<AgencyUnits> = state
        .store()
        .agencies()
        .await?
        .into_iter()
        .map(|a| AgencyUnits {
            id: a.id.0,
            name: a.name,
            units: Vec::new(),
        })
        .collect();
    for u in state.store().units().await? {
        if let Some(a) = agencies.iter_mut().find(|a| a.id == u.agency_id.0) {
            a.units.push(u);
        }
    }
    render(Units {
        page,
        flash,
        agencies,
        unit_kind: state.settings().unit_kind.clone(),
    })
}

#[derive(Deserialize)]
pub struct NamedForm {
    name: String,
}

pub async fn create_agency(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    CsrfForm(form): CsrfForm<NamedForm>,
) -> Response {
    let outcome = org::create_agency(&state, &form.name, &user.actor()).await;
    back(
        "/console/units",
        lang,
        outcome.map(|a| a.name).map_err(Failure::from),
    )
}

#[derive(Deserialize)]
pub struct UnitForm {
    agency_id: i64,
    name: String,
    #[serde(default)]
    kind: String,
}

pub async fn create_unit(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    CsrfForm(form): CsrfForm<UnitForm>,
) -> Response {
    let outcome = org::create_unit(
        &state,
        AgencyId(form.agency_id),
        &form.name,
        Some(&form.kind),
        &user.actor(),
    )
    .await;
    back(
        "/console/units",
        lang,
        outcome
            .map(|u| format!("{} {}", u.agency, u.name))
            .map_err(Failure::from),
    )
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_unit_active(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> Response {
    let outcome =
        org::set_unit_active(&state, UnitId(id), form.active == "true", &user.actor()).await;
    back(
        "/console/units",
        lang,
        outcome.map(|()| String::from("✓")).map_err(Failure::from),
    )
}

struct PostLine {
    unit: String,
    agency: String,
    role: String,
    person: String,
    start: String,
    end: String,
}

#[derive(Template)]
#[template(path = "console/people.html")]
struct People {
    page: Page,
    flash: Flash,
    people: Vec<minping_domain::Person>,
    units: Vec<minping_domain::Unit>,
    posts: Vec<PostLine>,
    today: String,
}

pub async fn people(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    flash: Flash,
) -> Result<Response, PageError> {
    let units = state.store().units().await?;
    let by_id: HashMap<UnitId, &minping_domain::Unit> = units.iter().map(|u| (u.id, u)).collect();
    let en = page.en();
    let posts = state
        .store()
        .posts()
        .await?
        .into_iter()
        .rev()
        .map(|p| PostLine {
            unit: by_id
                .get(&p.unit_id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            agency: by_id
                .get(&p.unit_id)
                .map(|u| u.agency.clone())
                .unwrap_or_default(),
            role: match (p.role, en) {
                (PostRole::Head, false) => "科室负责人".into(),
                (PostRole::Head, true) => "Unit head".into(),
                (PostRole::SupervisingLeader, false) => "分管领导".into(),
                (PostRole::SupervisingLeader, true) => "Supervising leader".into(),
            },
            person: p.person,
            start: p.start.to_string(),
            end: p.end.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    render(People {
        page,
        flash,
        people: state.store().people().await?,
        posts,
        today: state.today().to_string(),
        units,
    })
}

pub async fn create_person(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    CsrfForm(form): CsrfForm<NamedForm>,
) -> Response {
    let outcome = org::create_person(&state, &form.name, &user.actor()).await;
    back(
        "/console/people",
        lang,
        outcome.map(|p| p.name).map_err(Failure::from),
    )
}

#[derive(Deserialize)]
pub struct PostForm {
    person_id: i64,
    unit_id: i64,
    role: String,
    start: String,
}

pub async fn assign_post(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    CsrfForm(form): CsrfForm<PostForm>,
) -> Response {
    let outcome = org::assign_post(
        &state,
        PersonId(form.person_id),
        UnitId(form.unit_id),
        &form.role,
        &form.start,
        &user.actor(),
    )
    .await;
    back(
        "/console/people",
        lang,
        outcome
            .map(|p| format!("{} {}", p.person, p.start))
            .map_err(Failure::from),
    )
}

#[derive(Template)]
#[template(path = "console/rounds.html")]
struct Rounds {
    page: Page,
    flash: Flash,
    rounds: Vec<RoundLine>,
    suggested: String,
}

pub async fn rounds(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    flash: Flash,
) -> Result<Response, PageError> {
    let en = page.en();
    let all = state.store().rounds().await?;
    let current = Period::containing(state.today());
    let suggested = std::iter::successors(Some(current), |p| Some(p.next_quarter()))
        .find(|p| all.iter().all(|r| !r.period.overlaps(*p)))
        .unwrap_or(current);
    let mut rounds = Vec::new();
    for r in all {
        rounds.push(RoundLine {
            id: r.id.0,
            label: r.period.to_string(),
            title: round_title(&r, en),
            state: r.state.to_string(),
            ballots: state.store().ballot_count(r.id).await?,
        });
    }
    render(Rounds {
        page,
        flash,
        rounds,
        suggested: suggested.to_string(),
    })
}

#[derive(Deserialize)]
pub struct RoundForm {
    label: String,
}

pub async fn create_round(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    CsrfForm(form): CsrfForm<RoundForm>,
) -> Response {
    let outcome = rounds::create(&state, &form.label, &who.actor()).await;
    back(
        "/console/rounds",
        lang,
        outcome.map(|r| r.period.to_string()).map_err(Failure::from),
    )
}

struct TransitionLine {
    from: String,
    to: String,
    actor: String,
    at: String,
}

#[derive(Template)]
#[template(path = "console/round.html")]
struct RoundPage {
    page: Page,
    flash: Flash,
    id: i64,
    title: String,
    state: String,
    next: Option<String>,
    ballots: u64,
    transitions: Vec<TransitionLine>,
    ranking: Option<Vec<ResultRow>>,
    ranking_frozen: bool,
    indicators: Vec<super::public::IndicatorView>,
    /// Ballots held by the stuffing scan and not yet reviewed.
    unreviewed: u64,
}

impl RoundPage {
    /// The warning about unreviewed holds, in the page's language.
    fn unreviewed_warning(&self) -> String {
        self.page
            .t("quarantine.warning")
            .replace("{n}", &self.unreviewed.to_string())
    }

    fn count(&self, row: &ResultRow, code: &str) -> u64 {
        row.indicators.get(code).copied().unwrap_or(0)
    }
}

pub async fn round(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    flash: Flash,
) -> Result<Response, PageError> {
    let round = state.round(RoundId(id)).await?;
    let tz = state.settings().tz();
    let transitions = state
        .store()
        .transitions(round.id)
        .await?
        .into_iter()
        .map(|t| TransitionLine {
            from: t.from.to_string(),
            to: t.to.to_string(),
            actor: t.actor,
            at: t.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect();
    let (ranking, ranking_frozen) = match round.state {
        RoundState::Draft | RoundState::Open => (None, false),
        RoundState::Closed => {
            let (_, ranking) = rounds::preview(&state, round.id).await?;
            (Some(results::rows(&state, &round, &ranking).await?), false)
        }
        RoundState::Finalized | RoundState::Published => {
            (results::of(&state, &round).await?.map(|r| r.ranking), true)
        }
    };
    let unreviewed = integrity::unreviewed(&state, round.id).await?;
    let en = page.en();
    render(RoundPage {
        id,
        unreviewed,
        title: round_title(&round, en),
        state: round.state.to_string(),
        next: round.state.next().map(|s| s.to_string()),
        ballots: state.store().ballot_count(round.id).await?,
        transitions,
        ranking,
        ranking_frozen,
        indicators: round
            .settings
            .indicators
            .iter()
            .map(|i| super::public::IndicatorView::new(i, en))
            .collect(),
        page,
        flash,
    })
}

#[derive(Deserialize)]
pub struct TransitionForm {
    to: String,
}

pub async fn transition(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TransitionForm>,
) -> Response {
    let outcome = rounds::advance_to(&state, RoundId(id), &form.to, &who.actor()).await;
    back(
        &format!("/console/rounds/{id}"),
        lang,
        outcome.map(|r| r.state.to_string()).map_err(Failure::from),
    )
}

//! Accountability in the console — a round's proposed sanctions and their review, the
//! promotion calendar with everyone frozen now — and the public statistics page.

use super::{Access, Page, console::Flash, public::round_title, render};
use crate::{
    auth::{Authorized, ORGANIZER, ORGANIZER_OR_LEADER},
    csrf::CsrfForm,
    error::{Failure, PageError},
    i18n::Lang,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use chrono::NaiveDate;
use minping_app::{
    accountability::{self, Frozen, frozen_on, person_names, statistics, unit_labels},
    notice,
};
use minping_domain::{
    PersonId, Role, RoundId,
    rules::{PromotionAnswer, SanctionState},
    statistics::{Figures, Statistics},
};
use minping_storage::Sanction;
use serde::Deserialize;

/// The organizer and the leaders.
pub const LEADERS: Access = Access::Roles(&[Role::Organizer, Role::Leader]);

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    page: Page,
    stats: Statistics,
}

impl StatisticsPage {
    /// The rows of the table: each year, then the total.
    fn rows(&self) -> Vec<(String, Figures)> {
        let mut rows: Vec<(String, Figures)> = self
            .stats
            .years
            .iter()
            .map(|(y, f)| (y.to_string(), *f))
            .collect();
        rows.push((self.page.t("stats.total"), self.stats.total));
        rows
    }
}

/// Since the first round, per year and in total (public).
pub async fn statistics_page(
    State(state): State<Shared>,
    page: Page,
) -> Result<Response, PageError> {
    render(StatisticsPage {
        stats: statistics(&state).await?,
        page,
    })
}

/// A sanction with the names a reader needs.
struct SanctionLine {
    sanction: Sanction,
    person: String,
    unit: String,
    state: String,
}

#[derive(Template)]
#[template(path = "console/sanctions.html")]
struct Sanctions {
    page: Page,
    flash: Flash,
    round_id: i64,
    title: String,
    lines: Vec<SanctionLine>,
    pending: usize,
}

/// A round's sanctions, with confirm/reject forms for the organizer.
pub async fn round_sanctions(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    page: Page,
    Path(id): Path<i64>,
    flash: Flash,
) -> Result<Response, PageError> {
    let round = state.round(RoundId(id)).await?;
    let people = person_names(&state).await?;
    let units = unit_labels(&state).await?;
    let lines: Vec<SanctionLine> = state
        .store()
        .sanctions(round.id)
        .await?
        .into_iter()
        .map(|s| SanctionLine {
            person: people
                .get(&s.proposal.person_id.0)
                .cloned()
                .unwrap_or_default(),
            unit: units
                .get(&s.proposal.unit_id.0)
                .cloned()
                .unwrap_or_default(),
            state: s.state.as_str().into(),
            sanction: s,
        })
        .collect();
    render(Sanctions {
        pending: lines
            .iter()
            .filter(|l| l.sanction.state == SanctionState::Proposed)
            .count(),
        title: round_title(&round, page.en()),
        page,
        flash,
        round_id: id,
        lines,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    decision_ref: String,
    round: i64,
}

/// Confirms (executed) or rejects a proposed sanction, with a reason (organizer).
pub async fn decide(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    let outcome = accountability::decide_as_typed(
        &state,
        id,
        &form.decision,
        &form.reason,
        Some(&form.decision_ref),
        &who.actor(),
    )
    .await;
    super::console::back(
        &format!("/console/rounds/{}/sanctions", form.round),
        lang,
        outcome
            .map(|s| format!("#{} {}", s.id, form.decision))
            .map_err(Failure::from),
    )
}

#[derive(Deserialize, Default)]
pub struct PromotionQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    on: String,
}

/// A post as the promotion page lists it.
struct PostLine {
    unit: String,
    role: String,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

/// A recorded promotion check as the page lists it.
struct CheckLine {
    person: String,
    on: NaiveDate,
    eligible: bool,
    note: String,
    checked_by: String,
}

#[derive(Template)]
#[template(path = "console/promotion.html")]
struct Promotion {
    page: Page,
    flash: Flash,
    people: Vec<minping_domain::Person>,
    person: i64,
    on: NaiveDate,
    answer: Option<(String, PromotionAnswer, Vec<PostLine>)>,
    error: Option<String>,
    today: NaiveDate,
    frozen: Vec<Frozen>,
    checks: Vec<CheckLine>,
}

/// "May P be promoted on D?" with every reason, and everyone frozen today (organizer,
/// leaders).
pub async fn promotion(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    page: Page,
    flash: Flash,
    Query(q): Query<PromotionQuery>,
) -> Result<Response, PageError> {
    let today = state.today();
    let people = state.store().people().await?;
    let mut error = None;
    let on = match q.on.trim() {
        "" => today,
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_else(|_| {
            error = Some(page.t("promotion.bad_date"));
            today
        }),
    };
    let person: i64 = q.person.trim().parse().unwrap_or(0);
    let units = unit_labels(&state).await?;
    let mut answer = None;
    if let Some(p) = people.iter().find(|p| p.id.0 == person)
        && error.is_none()
    {
        // The posts the person holds and held, removals (免职) included.
        let posts = state
            .store()
            .posts()
            .await?
            .into_iter()
            .filter(|post| post.person_id == p.id)
            .map(|post| PostLine {
                unit: units.get(&post.unit_id.0).cloned().unwrap_or_default(),
                role: page.t(&format!("post.{}", post.role.as_str())),
                start: post.start,
                end: post.end,
            })
            .collect();
        answer = Some((
            p.name.clone(),
            accountability::promotion(&state, PersonId(person), on).await?,
            posts,
        ));
    }
    let names = person_names(&state).await?;
    let checks = state
        .store()
        .promotion_checks()
        .await?
        .into_iter()
        .rev()
        .map(|c| CheckLine {
            person: names.get(&c.person_id.0).cloned().unwrap_or_default(),
            on: c.on,
            eligible: c.answer.eligible,
            note: c.note,
            checked_by: c.checked_by,
        })
        .collect();
    render(Promotion {
        frozen: frozen_on(&state, today).await?,
        flash,
        page,
        people,
        person,
        on,
        answer,
        error,
        today,
        checks,
    })
}

#[derive(Deserialize)]
pub struct CheckForm {
    person: i64,
    #[serde(default)]
    on: String,
    #[serde(default)]
    note: String,
}

/// Records that a person is up for promotion (拟提拔) and the calendar's answer (organizer).
pub async fn check(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    lang: Lang,
    CsrfForm(form): CsrfForm<CheckForm>,
) -> Response {
    let outcome = async {
        let on = match form.on.trim() {
            "" => state.today(),
            d => d
                .parse()
                .map_err(|_| Failure::from(minping_app::org::OrgError::BadDate))?,
        };
        let check = accountability::check_promotion(
            &state,
            PersonId(form.person),
            on,
            &form.note,
            &who.actor(),
        )
        .await?;
        Ok::<_, Failure>(format!(
            "#{} {}",
            check.id,
            if check.answer.eligible { "✓" } else { "✗" }
        ))
    }
    .await;
    super::console::back(
        &format!("/console/promotion?person={}", form.person),
        lang,
        outcome,
    )
}

/// The circulation notice of a finalized round, as a PDF download (organizer, leaders).
pub async fn notice_pdf(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let pdf = notice::pdf(&state, RoundId(id)).await?;
    Ok(crate::download::notice(id, pdf))
}

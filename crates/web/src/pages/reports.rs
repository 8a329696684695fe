//! Reports (举报) on the web: the public form (no sign-in, anonymous unless a contact is
//! given), the tracking page, and the investigators' console. Unit users never reach any of
//! the console pages; the reporter's contact is shown to investigators and the organizer only.

use super::{Access, Page, console::Flash, render};
use crate::{
    api::reports::{ReportBody, ReportTransition, intake, move_report},
    auth::{Authorized, role_bit},
    csrf::CsrfForm,
    error::{ApiError, PageError},
    state::{AppState, Shared},
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use chrono::NaiveDate;
use minping_domain::{
    Role,
    code::OneTimeCode,
    report::{ReportSource, ReportState},
};
use minping_storage::{Report, ReportEvent};
use serde::Deserialize;
use std::collections::HashMap;

const INVESTIGATOR: u8 = role_bit(Role::Investigator);
const INVESTIGATOR_OR_ORGANIZER: u8 = role_bit(Role::Investigator) | role_bit(Role::Organizer);
/// Who may use the console's report pages.
pub const CONSOLE: Access = Access::Roles(&[Role::Investigator, Role::Organizer]);
/// Who may move a report along.
pub const INVESTIGATORS: Access = Access::Roles(&[Role::Investigator]);

/// A unit to pick, under its agency.
struct UnitChoice {
    id: i64,
    name: String,
    selected: bool,
}

struct AgencyChoice {
    name: String,
    units: Vec<UnitChoice>,
}

/// The active units by agency, for the unit picker.
async fn unit_choices(state: &AppState, selected: i64) -> Result<Vec<AgencyChoice>, PageError> {
    let units = state.store.units().await?;
    Ok(state
        .store
        .agencies()
        .await?
        .into_iter()
        .map(|a| AgencyChoice {
            units: units
                .iter()
                .filter(|u| u.active && u.agency_id == a.id)
                .map(|u| UnitChoice {
                    id: u.id.0,
                    name: u.name.clone(),
                    selected: u.id.0 == selected,
                })
                .collect(),
            name: a.name,
        })
        .filter(|a| !a.units.is_empty())
        .collect())
}

/// What was typed, kept when the form comes back with an error.
#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    staff: String,
    #[serde(default)]
    occurred_on: String,
    #[serde(default)]
    contact: String,
    /// Staff intake only: `hotline`, `letter` or `visit`.
    #[serde(default)]
    source: String,
}

impl ReportForm {
    /// The API body, or the error to show beside the field.
    fn body(&self) -> Result<ReportBody, ApiError> {
        let field = |f: &str| -> Option<String> {
            let f = f.trim();
            (!f.is_empty()).then(|| f.to_string())
        };
        let unit_id = self.unit_id.trim().parse().map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_unit",
                "pick a unit",
            )
            .with_field("unit_id")
        })?;
        let occurred_on = match field(&self.occurred_on) {
            None => None,
            Some(d) => Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_date",
                    "a date is YYYY-MM-DD",
                )
                .with_field("occurred_on")
            })?),
        };
        Ok(ReportBody {
            unit_id,
            description: self.description.clone(),
            staff: field(&self.staff),
            contact: field(&self.contact),
            occurred_on,
        })
    }
}

#[derive(Template)]
#[template(path = "report_new.html")]
struct NewReportPage {
    page: Page,
    agencies: Vec<AgencyChoice>,
    form: ReportForm,
    error: Option<String>,
    error_field: String,
    today: NaiveDate,
}

/// The public report form.
pub async fn form(State(state): State<Shared>, page: Page) -> Result<Response, PageError> {
    render(NewReportPage {
        agencies: unit_choices(&state, 0).await?,
        page,
        form: ReportForm::default(),
        error: None,
        error_field: String::new(),
        today: state.today(),
    })
}

#[derive(Template)]
#[template(path = "report_filed.html")]
struct Filed {
    page: Page,
    tracking_code: String,
}

/// Files a public report; shows its tracking code, or the form again with what was typed.
pub async fn submit(
    State(state): State<Shared>,
    page: Page,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> Result<Response, PageError> {
    let outcome = match form.body() {
        Ok(body) => intake(&state, body, ReportSource::Web).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok((tracking_code, _)) => render(Filed {
            page,
            tracking_code,
        }),
        Err(e) if e.status.is_client_error() => {
            let selected = form.unit_id.trim().parse().unwrap_or(0);
            let mut response = render(NewReportPage {
                error: Some(page.t(&format!("report.err.{}", e.code))),
                error_field: e.field.unwrap_or_default(),
                agencies: unit_choices(&state, selected).await?,
                page,
                form,
                today: state.today(),
            })?;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TrackQuery {
    #[serde(default)]
    code: String,
}

/// A step as the reporter sees it.
struct Step {
    state: String,
    on: NaiveDate,
}

#[derive(Template)]
#[template(path = "report_track.html")]
struct Track {
    page: Page,
    code: String,
    found: Option<(String, Vec<Step>)>,
    not_found: bool,
}

/// The reporter's view: the status and the dates of each step, never internal notes.
pub async fn track(
    State(state): State<Shared>,
    page: Page,
    Query(q): Query<TrackQuery>,
) -> Result<Response, PageError> {
    let code = q.code.trim().to_string();
    let mut found = None;
    if !code.is_empty()
        && let Ok(parsed) = OneTimeCode::parse(&code)
        && let Some(report) = state
            .store
            .report_by_tracking(&parsed.digest(&state.code_key))
            .await?
    {
        let tz = state.settings.tz();
        let mut steps = vec![Step {
            state: ReportState::Received.to_string(),
            on: report.received_on,
        }];
        for e in state.store.report_events(report.id).await? {
            steps.push(Step {
                state: e.to.to_string(),
                on: e.at.with_timezone(&tz).date_naive(),
            });
        }
        found = Some((report.state.to_string(), steps));
    }
    render(Track {
        not_found: !code.is_empty() && found.is_none(),
        page,
        code,
        found,
    })
}

/// A report line in the console.
struct Line {
    report: Report,
    unit: String,
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct Reports {
    page: Page,
    flash: Flash,
    reports: Vec<Line>,
    filter: String,
    agencies: Vec<AgencyChoice>,
    counts: Vec<(String, usize)>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(flatten)]
    flash: HashMap<String, String>,
}

/// Unit names by id, "agency · unit".
async fn unit_names(state: &AppState) -> Result<HashMap<i64, String>, PageError> {
    Ok(state
        .store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id.0, format!("{} · {}", u.agency, u.name)))
        .collect())
}

/// Every report, newest first, filtered by state; the staff intake form.
pub async fn list(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let names = unit_names(&state).await?;
    let all = state.store.reports(None).await?;
    let counts = ReportState::ALL
        .iter()
        .map(|s| {
            let n = all.iter().filter(|r| r.state == *s).count();
            (s.to_string(), n)
        })
        .collect();
    let reports = all
        .into_iter()
        .filter(|r| q.state.is_empty() || r.state.to_string() == q.state)
        .map(|r| Line {
            unit: names.get(&r.unit_id.0).cloned().unwrap_or_default(),
            report: r,
        })
        .collect();
    render(Reports {
        flash: Flash {
            error: q.flash.get("error").cloned(),
            done: q.flash.get("done").cloned(),
        },
        agencies: unit_choices(&state, 0).await?,
        page,
        reports,
        filter: q.state,
        counts,
    })
}

/// Keys in a report taken by hotline, letter or visit; back to the list with its tracking
/// code, which staff pass on to the reporter.
pub async fn staff_intake(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    CsrfForm(form): CsrfForm<ReportForm>,
) -> Response {
    let outcome = async {
        let source = match form.source.as_str() {
            "hotline" => ReportSource::Hotline,
            "letter" => ReportSource::Letter,
            "visit" => ReportSource::Visit,
            _ => {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_source",
                    "source must be hotline, letter or visit",
                ));
            }
        };
        let (code, id) = intake(&state, form.body()?, source).await?;
        Ok(format!("#{id} · {code}"))
    }
    .await;
    super::console::back("/console/reports", outcome)
}

#[derive(Template)]
#[template(path = "console/report.html")]
struct Detail {
    page: Page,
    flash: Flash,
    report: Report,
    unit: String,
    events: Vec<ReportEvent>,
    next: Vec<String>,
    may_act: bool,
}

/// One report with its recorded steps and, for investigators, the next step.
pub async fn detail(
    State(state): State<Shared>,
    who: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let report = state
        .store
        .report(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let unit = unit_names(&state)
        .await?
        .remove(&report.unit_id.0)
        .unwrap_or_default();
    let next = ReportState::ALL
        .iter()
        .filter(|s| report.state.may_become(**s))
        .map(|s| s.to_string())
        .collect();
    render(Detail {
        events: state.store.report_events(id).await?,
        may_act: who.0.role == Role::Investigator,
        page,
        flash,
        report,
        unit,
        next,
    })
}

#[derive(Deserialize)]
pub struct StepForm {
    to: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    action: String,
}

/// Moves a report one step (investigators).
pub async fn transition(
    State(state): State<Shared>,
    who: Authorized<INVESTIGATOR>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Response {
    let body = ReportTransition {
        to: form.to,
        reason: form.reason,
        action: Some(form.action),
    };
    let outcome = move_report(&state, id, &body, &who.actor())
        .await
        .map(|()| body.to.clone());
    super::console::back(&format!("/console/reports/{id}"), outcome)
}

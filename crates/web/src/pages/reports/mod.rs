//! Reports (举报) on the web: the public form (no sign-in, anonymous unless a contact is
//! given, with evidence files if any), the tracking page, and the investigators' console.
//! Unit users never reach any of the console pages; the reporter's contact and evidence are
//! shown to investigators and the organizer only.

use super::{Access, Page, console::Flash, render};
use crate::{
    auth::{Authorized, role_bit},
    csrf::{CsrfForm, CsrfUpload},
    error::{Failure, PageError},
    i18n::Lang,
    state::{AppState, Shared},
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use chrono::NaiveDate;
use minping_app::{WorkflowError, accountability::unit_labels, reports};
use minping_domain::{
    Role,
    report::{EvidenceKind, ReportSource, ReportState},
};
use minping_storage::{EvidenceMeta, Report, ReportEvent};
use serde::Deserialize;
use submission::{Refusal, ReportForm, Submission, file_report};

mod submission;

pub use submission::READ_LIMIT;

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
    let units = state.store().units().await?;
    Ok(state
        .store()
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

#[derive(Template)]
#[template(path = "report_new.html")]
struct NewReportPage {
    page: Page,
    agencies: Vec<AgencyChoice>,
    form: ReportForm,
    error: Option<String>,
    error_field: String,
    /// Files came with the form that is shown again: they must be chosen again.
    files_again: bool,
    today: NaiveDate,
    /// The file picker's `accept` list.
    accept: String,
}

/// What the file picker offers: the media types taken, and their extensions for pickers that
/// go by name.
fn accept() -> String {
    let types = EvidenceKind::ALL
        .iter()
        .map(|k| k.content_type().to_string());
    let extensions = EvidenceKind::ALL
        .iter()
        .flat_map(|k| k.extensions())
        .map(|e| format!(".{e}"));
    types.chain(extensions).collect::<Vec<_>>().join(",")
}

/// The public report form.
pub async fn form(State(state): State<Shared>, page: Page) -> Result<Response, PageError> {
    render(NewReportPage {
        agencies: unit_choices(&state, 0).await?,
        page,
        form: ReportForm::default(),
        error: None,
        error_field: String::new(),
        files_again: false,
        today: state.today(),
        accept: accept(),
    })
}

#[derive(Template)]
#[template(path = "report_filed.html")]
struct FiledPage {
    page: Page,
    tracking_code: String,
}

/// Files a public report with its evidence files; shows its tracking code, or the form
/// again with what was typed.
pub async fn submit(
    State(state): State<Shared>,
    page: Page,
    crate::client::Client(client): crate::client::Client,
    upload: CsrfUpload,
) -> Result<Response, PageError> {
    let mut sent = Submission::read(upload).await?;
    let files_again = sent.had_files();
    let evidence = sent.evidence().map_err(reports::ReportError::from);
    // One address sends so much evidence an hour (limits on, as in production).
    let quota = client.addr.filter(|_| state.rate_limit);
    match file_report(
        &state,
        &page,
        &sent.form,
        evidence,
        ReportSource::Web,
        None,
        quota,
    )
    .await?
    {
        Ok(filed) => render(FiledPage {
            page,
            tracking_code: filed.tracking_code,
        }),
        Err(refused) => {
            let selected = sent.form.unit_id.trim().parse().unwrap_or(0);
            let mut response = render(NewReportPage {
                error: Some(refused.message),
                error_field: refused.field,
                files_again,
                agencies: unit_choices(&state, selected).await?,
                page,
                form: sent.form,
                today: state.today(),
                accept: accept(),
            })?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
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
    if !code.is_empty() {
        match reports::status(&state, &code).await {
            Ok(status) => {
                let mut steps = vec![Step {
                    state: ReportState::Received.to_string(),
                    on: status.received_on,
                }];
                steps.extend(
                    status
                        .history
                        .into_iter()
                        .map(|(state, on)| Step { state, on }),
                );
                found = Some((status.status, steps));
            }
            Err(reports::ReportError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
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
    /// The file picker's `accept` list.
    accept: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
}

/// Every report, newest first, filtered by state; the staff intake form.
pub async fn list(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
    flash: Flash,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let names = unit_labels(&state).await?;
    let all = state.store().reports(None).await?;
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
        flash,
        agencies: unit_choices(&state, 0).await?,
        accept: accept(),
        page,
        reports,
        filter: q.state,
        counts,
    })
}

/// Keys in a report taken by hotline, letter or visit, with any evidence files (a letter's
/// scans, say); back to the list with its tracking code, which staff pass on to the
/// reporter.
pub async fn staff_intake(
    State(state): State<Shared>,
    who: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
    upload: CsrfUpload,
) -> Result<Response, PageError> {
    let mut sent = Submission::read(upload).await?;
    let evidence = sent.evidence().map_err(reports::ReportError::from);
    let actor = who.actor();
    let outcome = match reports::staff_source(&sent.form.source) {
        Ok(source) => file_report(
            &state,
            &page,
            &sent.form,
            evidence,
            source,
            Some(&actor),
            None,
        )
        .await?
        .map(|filed| format!("#{} · {}", filed.id, filed.tracking_code))
        .map_err(|refused| refused.message),
        Err(e) => Err(Refusal::new(&page, e.code(), "source").message),
    };
    Ok(Flash::of(outcome).redirect("/console/reports"))
}

/// An evidence file in the console.
struct EvidenceLine {
    meta: EvidenceMeta,
    /// Its size for people: `340 KB`, `2.4 MB`.
    size: String,
}

/// A size in bytes for people, in the units phones show.
fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

#[derive(Template)]
#[template(path = "console/report.html")]
struct Detail {
    page: Page,
    flash: Flash,
    report: Report,
    unit: String,
    events: Vec<ReportEvent>,
    evidence: Vec<EvidenceLine>,
    next: Vec<String>,
    may_act: bool,
}

/// One report with its recorded steps and, for investigators, the next step.
pub async fn detail(
    State(state): State<Shared>,
    who: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    flash: Flash,
) -> Result<Response, PageError> {
    let report = state
        .store()
        .report(id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let unit = unit_labels(&state)
        .await?
        .remove(&report.unit_id.0)
        .unwrap_or_default();
    let next = ReportState::ALL
        .iter()
        .filter(|s| report.state.may_become(**s))
        .map(|s| s.to_string())
        .collect();
    render(Detail {
        events: state.store().report_events(id).await?,
        evidence: state
            .store()
            .evidence(id)
            .await?
            .into_iter()
            .map(|meta| EvidenceLine {
                size: human_size(meta.size),
                meta,
            })
            .collect(),
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
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Response {
    let outcome = reports::step(
        &state,
        id,
        &form.to,
        &form.reason,
        Some(&form.action),
        &who.actor(),
    )
    .await;
    super::console::back(
        &format!("/console/reports/{id}"),
        lang,
        outcome.map(|to| to.to_string()).map_err(Failure::from),
    )
}

/// Downloads one evidence file of a report (investigators, the organizer). Always as an
/// attachment of the type found from its bytes, never rendered in the console's origin.
pub async fn evidence_file(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (meta, content) = reports::evidence_file(&state, id, evidence_id).await?;
    Ok(crate::download::evidence(&meta, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_phones_show_them() {
        assert_eq!(human_size(900), "900 B");
        assert_eq!(human_size(348_160), "340 KB");
        assert_eq!(human_size(2_516_582), "2.4 MB");
    }
}

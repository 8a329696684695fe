//! Reports (举报) on the web: the public form (no sign-in, anonymous unless a contact is
//! given, with evidence files if any), the tracking page, and the investigators' console.
//! Unit users never reach any of the console pages; the reporter's contact and evidence are
//! shown to investigators and the organizer only.

use super::{Access, Page, console::Flash, render};
use crate::{
    auth::{Authorized, role_bit},
    csrf::{self, CsrfForm, CsrfUpload},
    error::{Failure, PageError},
    i18n::Lang,
    state::{AppState, Shared},
};
use askama::Template;
use axum::{
    extract::{Path, Query, State, multipart::MultipartError},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use minping_app::{
    ErrorKind, WorkflowError,
    accountability::unit_labels,
    reports::{self, Filed},
};
use minping_domain::{
    Role,
    report::{
        EvidenceKind, MAX_EVIDENCE_TOTAL_BYTES, NewEvidence, ReportDraft, ReportError,
        ReportSource, ReportState, check_evidence,
    },
};
use minping_storage::{EvidenceMeta, Report, ReportEvent};
use serde::Deserialize;
use std::{collections::HashMap, fmt::Write};

/// The largest report form taken: the evidence files at their limit, and room for the
/// fields around them.
pub const UPLOAD_LIMIT: usize = MAX_EVIDENCE_TOTAL_BYTES + 1024 * 1024;

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

/// A report refused: what to show, and beside which field.
struct Refusal {
    message: String,
    field: String,
}

impl Refusal {
    /// A refusal by its code, in the page's words (`report.err.<code>`).
    fn new(page: &Page, code: &str, field: &str) -> Self {
        Self {
            message: page.t(&format!("report.err.{code}")),
            field: field.into(),
        }
    }
}

impl ReportForm {
    /// The report as typed, or the error to show beside the field.
    fn draft(&self, page: &Page) -> Result<ReportDraft, Refusal> {
        let field = |f: &str| -> Option<String> {
            let f = f.trim();
            (!f.is_empty()).then(|| f.to_string())
        };
        let unit_id = self
            .unit_id
            .trim()
            .parse()
            .map_err(|_| Refusal::new(page, "unknown_unit", "unit_id"))?;
        let occurred_on = match field(&self.occurred_on) {
            None => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| Refusal::new(page, "bad_date", "occurred_on"))?,
            ),
        };
        Ok(ReportDraft {
            unit_id,
            description: self.description.clone(),
            staff: field(&self.staff),
            contact: field(&self.contact),
            occurred_on,
        })
    }
}

/// A report form as sent: its fields and, from a multipart form, its evidence files.
struct Submission {
    form: ReportForm,
    /// The files as sent, (name, bytes), unchecked.
    files: Vec<(String, Vec<u8>)>,
    /// The form went over [`UPLOAD_LIMIT`] while it was read.
    over_limit: bool,
}

impl Submission {
    /// Reads the form, its CSRF token already checked. A form without files may come
    /// urlencoded; a file input left empty sends nothing to keep.
    async fn read(upload: CsrfUpload) -> Result<Self, PageError> {
        let mut multipart = match upload {
            CsrfUpload::Fields(body) => {
                let form = serde_urlencoded::from_bytes(&body).map_err(|e| {
                    PageError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("表单内容有误 · Invalid form: {e}"),
                    )
                })?;
                return Ok(Self {
                    form,
                    files: Vec::new(),
                    over_limit: false,
                });
            }
            CsrfUpload::Multipart(multipart) => multipart,
        };
        let mut sent = Self {
            form: ReportForm::default(),
            files: Vec::new(),
            over_limit: false,
        };
        let read = async {
            while let Some(field) = multipart.next_field().await? {
                let name = field.name().unwrap_or_default().to_string();
                if name == "evidence" {
                    let file_name = field.file_name().unwrap_or_default().to_string();
                    let bytes = field.bytes().await?;
                    if !bytes.is_empty() || !file_name.is_empty() {
                        sent.files.push((file_name, Vec::from(bytes)));
                    }
                    continue;
                }
                let form = &mut sent.form;
                let slot = match name.as_str() {
                    "unit_id" => &mut form.unit_id,
                    "description" => &mut form.description,
                    "staff" => &mut form.staff,
                    "occurred_on" => &mut form.occurred_on,
                    "contact" => &mut form.contact,
                    "source" => &mut form.source,
                    _ => continue,
                };
                *slot = field.text().await?;
            }
            Ok::<_, MultipartError>(())
        };
        match read.await {
            Ok(()) => {}
            // What was typed before the files is kept, to show the form again.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => sent.over_limit = true,
            Err(e) => return Err(csrf::upload_failed(e)),
        }
        Ok(sent)
    }

    /// Whether any file came (it must be chosen again if the form comes back).
    fn had_files(&self) -> bool {
        !self.files.is_empty() || self.over_limit
    }

    /// The files, checked.
    fn evidence(&mut self) -> Result<Vec<NewEvidence>, ReportError> {
        if self.over_limit {
            return Err(ReportError::FilesTooLarge);
        }
        check_evidence(std::mem::take(&mut self.files))
    }
}

/// Checks and stores a report sent through a form with its evidence files. A refusal comes
/// back in the page's language, naming the file concerned; a failure of the server is an
/// error page.
async fn file_report(
    state: &AppState,
    page: &Page,
    form: &ReportForm,
    evidence: Result<Vec<NewEvidence>, ReportError>,
    source: ReportSource,
) -> Result<Result<Filed, Refusal>, PageError> {
    let draft = match form.draft(page) {
        Ok(draft) => draft,
        Err(refused) => return Ok(Err(refused)),
    };
    let outcome = match evidence {
        Ok(evidence) => reports::file(state, draft, &evidence, source).await,
        Err(e) => Err(e.into()),
    };
    match outcome {
        Ok(filed) => Ok(Ok(filed)),
        Err(e) if matches!(e.kind(), ErrorKind::Invalid | ErrorKind::NotFound) => {
            let mut refused = Refusal::new(page, e.code(), &e.field().unwrap_or_default());
            if let reports::ReportError::Invalid(invalid) = &e
                && let Some(name) = invalid.file_name()
            {
                let _ = write!(refused.message, "（{name}）");
            }
            Ok(Err(refused))
        }
        Err(e) => Err(e.into()),
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
    upload: CsrfUpload,
) -> Result<Response, PageError> {
    let mut sent = Submission::read(upload).await?;
    let files_again = sent.had_files();
    let evidence = sent.evidence();
    match file_report(&state, &page, &sent.form, evidence, ReportSource::Web).await? {
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
    #[serde(flatten)]
    flash: HashMap<String, String>,
}

/// Every report, newest first, filtered by state; the staff intake form.
pub async fn list(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
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
        flash: Flash {
            error: q.flash.get("error").cloned(),
            done: q.flash.get("done").cloned(),
        },
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
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    page: Page,
    upload: CsrfUpload,
) -> Result<Response, PageError> {
    let mut sent = Submission::read(upload).await?;
    let evidence = sent.evidence();
    let outcome = match reports::staff_source(&sent.form.source) {
        Ok(source) => file_report(&state, &page, &sent.form, evidence, source)
            .await?
            .map(|filed| format!("#{} · {}", filed.id, filed.tracking_code))
            .map_err(|refused| refused.message),
        Err(e) => Err(Refusal::new(&page, e.code(), "source").message),
    };
    let query = match outcome {
        Ok(done) => serde_urlencoded::to_string([("done", done)]),
        Err(error) => serde_urlencoded::to_string([("error", error)]),
    }
    .unwrap_or_default();
    Ok(axum::response::Redirect::to(&format!("/console/reports?{query}")).into_response())
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
    Query(flash): Query<Flash>,
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

/// `attachment` with the name twice: in plain ASCII for old clients (anything else as `_`),
/// and exactly, as UTF-8 percent-encoded in the RFC 5987 `filename*` that browsers prefer.
fn content_disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' ' => ' ',
            '"' | '\\' | '%' => '_',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    let mut exact = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            exact.push(char::from(b));
        } else {
            let _ = write!(exact, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}")
}

/// Downloads one evidence file of a report (investigators, the organizer). Always as an
/// attachment of the type found from its bytes, never rendered in the console's origin.
pub async fn evidence_file(
    State(state): State<Shared>,
    _: Authorized<INVESTIGATOR_OR_ORGANIZER>,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (meta, content) = reports::evidence_file(&state, id, evidence_id).await?;
    // Only a type the upload check gives is sent as such.
    let content_type = EvidenceKind::from_content_type(&meta.content_type)
        .map_or("application/octet-stream", EvidenceKind::content_type);
    let disposition = HeaderValue::from_str(&content_disposition(&meta.file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        content,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_keeps_its_exact_name_and_an_ascii_one_that_cannot_break_the_header() {
        assert_eq!(
            content_disposition("现场 照片\"%.png"),
            "attachment; filename=\"__ ____.png\"; \
             filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87%22%25.png"
        );
        assert_eq!(
            content_disposition("receipt-2026_10.pdf"),
            "attachment; filename=\"receipt-2026_10.pdf\"; filename*=UTF-8''receipt-2026_10.pdf"
        );
    }

    #[test]
    fn sizes_read_as_phones_show_them() {
        assert_eq!(human_size(900), "900 B");
        assert_eq!(human_size(348_160), "340 KB");
        assert_eq!(human_size(2_516_582), "2.4 MB");
    }
}

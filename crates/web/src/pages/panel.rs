//! The panel registry in the console: members with counts per group, search and filters,
//! file import with a preview and a report of refused rows, deactivation, export. Personal
//! data: the organizer's alone.

use super::{Page, render};
use crate::{
    auth::{Authorized, ORGANIZER},
    csrf::{self, CsrfForm, CsrfUpload},
    download,
    error::{PageError, in_words},
    i18n::Lang,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{FromRequest, Path, Query, Request, State},
    http::{StatusCode, header},
    response::Response,
};
use base64::Engine;
use minping_app::panel::{self as registry, PER_PAGE, PanelError};
use minping_storage::MemberFilter;
use serde::Deserialize;

/// The largest file the upload takes (a registry of a few hundred thousand rows).
pub const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// Back to the registry page, carrying what happened.
fn back(outcome: Result<String, String>) -> Response {
    Flash::of(outcome).redirect("/console/panel")
}

/// The list's query string, and the outcome of the last action.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    page: Option<i64>,
}

use super::flash::Flash;

struct GroupLine {
    code: String,
    name: String,
    total: i64,
    active: i64,
}

struct MemberLine {
    id: i64,
    name: String,
    group: String,
    address: String,
    postcode: String,
    phone: String,
    units: String,
    source: String,
    added_on: String,
    active: bool,
    left: String,
}

#[derive(Template)]
#[template(path = "panel/members.html")]
struct MembersPage {
    page: Page,
    flash: Flash,
    groups: Vec<GroupLine>,
    total: i64,
    active: i64,
    members: Vec<MemberLine>,
    search: String,
    group: String,
    active_only: bool,
    matching: i64,
    page_no: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /console/panel`.
pub async fn members(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    flash: Flash,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let en = page.en();
    let settings = &state.settings().panel;
    let store = &state.store();
    let mut groups = Vec::new();
    for g in &settings.groups {
        let of = |active_only| MemberFilter {
            active_only,
            group: Some(g.code.clone()),
            ..MemberFilter::default()
        };
        groups.push(GroupLine {
            code: g.code.clone(),
            name: if en {
                g.name_en.clone()
            } else {
                g.name_zh.clone()
            },
            total: store.member_count(&of(false)).await?,
            active: store.member_count(&of(true)).await?,
        });
    }
    let total = store.member_count(&MemberFilter::default()).await?;
    let active = store
        .member_count(&MemberFilter {
            active_only: true,
            ..MemberFilter::default()
        })
        .await?;
    let active_only = q.active == "1";
    let mut flash = flash;
    let mut filter =
        match registry::member_filter(&state, Some(&q.search), Some(&q.group), active_only) {
            Ok(f) => f,
            Err(e) => {
                flash.error = Some(in_words(&e, page.lang));
                MemberFilter::default()
            }
        };
    let matching = store.member_count(&filter).await?;
    let pages = ((matching + PER_PAGE - 1) / PER_PAGE).max(1);
    let page_no = q.page.unwrap_or(1).clamp(1, pages);
    filter.limit = Some(PER_PAGE);
    filter.offset = (page_no - 1) * PER_PAGE;
    let members = store
        .members(&filter)
        .await?
        .into_iter()
        .map(|m| MemberLine {
            id: m.id,
            group: settings
                .groups
                .iter()
                .find(|g| g.code == m.details.group)
                .map_or(m.details.group.clone(), |g| {
                    if en {
                        g.name_en.clone()
                    } else {
                        g.name_zh.clone()
                    }
                }),
            name: m.details.name,
            address: m.details.address,
            postcode: m.details.postcode,
            phone: m.details.phone,
            units: m.details.units.join("、"),
            source: m.details.source,
            added_on: m.details.added_on.to_string(),
            active: m.active,
            left: [
                m.left_on.map(|d| d.to_string()).unwrap_or_default(),
                m.left_reason
                    .as_deref()
                    .map(|r| registry::leave_reason_text(r, en))
                    .unwrap_or_default(),
            ]
            .join(" "),
        })
        .collect();
    let link = |n: i64| {
        let query = serde_urlencoded::to_string([
            ("search", q.search.as_str()),
            ("group", q.group.as_str()),
            ("active", q.active.as_str()),
            ("page", &n.to_string()),
        ])
        .unwrap_or_default();
        format!("/console/panel?{query}")
    };
    let mut response = render(MembersPage {
        page,
        flash,
        groups,
        total,
        active,
        members,
        search: q.search.clone(),
        group: q.group.clone(),
        active_only,
        matching,
        page_no,
        pages,
        prev: (page_no > 1).then(|| link(page_no - 1)),
        next: (page_no < pages).then(|| link(page_no + 1)),
    })?;
    no_store(&mut response);
    Ok(response)
}

/// A file sent to the import form.
struct Upload {
    name: String,
    bytes: Vec<u8>,
    preview: bool,
}

fn bad(status: StatusCode, message: &str) -> PageError {
    PageError::new(status, message)
}

impl Upload {
    /// Reads the upload form. Its first field must be the CSRF token, checked before
    /// anything else is read; then `file` (or `carried`, the base64 of a file already
    /// previewed, with its `file_name`) and `preview`.
    async fn read(req: Request, state: &Shared) -> Result<Self, PageError> {
        let CsrfUpload::Multipart(mut form) = CsrfUpload::from_request(req, state).await? else {
            // Not the upload form: no file to import.
            return Err(bad(
                StatusCode::BAD_REQUEST,
                "请选择要导入的文件 · Choose a file to import",
            ));
        };
        let unreadable = csrf::upload_failed;
        let mut upload = Upload {
            name: String::new(),
            bytes: Vec::new(),
            preview: false,
        };
        while let Some(field) = form.next_field().await.map_err(unreadable)? {
            match field.name().unwrap_or_default() {
                "file" => {
                    let name = field.file_name().unwrap_or_default().to_string();
                    let bytes = field.bytes().await.map_err(unreadable)?;
                    if !bytes.is_empty() || !name.is_empty() {
                        upload.name = name;
                        upload.bytes = bytes.to_vec();
                    }
                }
                "carried" if upload.bytes.is_empty() => {
                    let text = field.text().await.map_err(unreadable)?;
                    upload.bytes = base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|_| {
                            bad(StatusCode::BAD_REQUEST, "表单无法读取 · Unreadable form")
                        })?;
                }
                "file_name" if upload.name.is_empty() => {
                    upload.name = field.text().await.map_err(unreadable)?;
                }
                "preview" => upload.preview = true,
                _ => {}
            }
        }
        if upload.name.is_empty() && upload.bytes.is_empty() {
            return Err(bad(
                StatusCode::BAD_REQUEST,
                "请选择要导入的文件 · Choose a file to import",
            ));
        }
        Ok(upload)
    }
}

struct RejectedLine {
    row: usize,
    name: String,
    group: String,
    phone: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "panel/report.html")]
struct ReportPage {
    page: Page,
    file_name: String,
    dry_run: bool,
    imported: usize,
    rejected: Vec<RejectedLine>,
    /// The refused rows as a CSV file in a `data:` URL: nothing to keep on the server, and
    /// it works behind any number of app nodes.
    download: Option<String>,
    download_name: String,
    /// For a preview: the file, to import it without choosing it again.
    carried: Option<String>,
}

/// `POST /console/panel/import`: reads the file and imports it row by row, or with
/// `preview` checks it and imports nothing; shows the report.
pub async fn import(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    page: Page,
    req: Request,
) -> Result<Response, PageError> {
    let upload = Upload::read(req, &state).await?;
    let report =
        match registry::import_file(&state, &upload.bytes, upload.preview, &user.actor()).await {
            Ok(report) => report,
            Err(PanelError::File(e)) => return Ok(back(Err(format!("{}：{e}", upload.name)))),
            Err(e) => return Err(e.into()),
        };
    let engine = base64::engine::general_purpose::STANDARD;
    let stem = upload
        .name
        .rsplit_once('.')
        .map_or(upload.name.as_str(), |(s, _)| s);
    let download = (!report.rejected.is_empty()).then(|| {
        format!(
            "data:text/csv;charset=utf-8;base64,{}",
            engine.encode(report.rejected_table().to_csv())
        )
    });
    let mut response = render(ReportPage {
        file_name: upload.name.clone(),
        dry_run: report.dry_run,
        imported: report.imported,
        rejected: report
            .rejected
            .iter()
            .map(|r| RejectedLine {
                row: r.row,
                name: r.draft.name.clone(),
                group: r.draft.group.clone(),
                phone: r.draft.phone.clone(),
                reason: r.reason.to_string(),
            })
            .collect(),
        download,
        download_name: format!(
            "{}-rejected.csv",
            if stem.is_empty() { "panel" } else { stem }
        ),
        carried: (report.dry_run && report.imported > 0).then(|| engine.encode(&upload.bytes)),
        page,
    })?;
    no_store(&mut response);
    Ok(response)
}

/// Personal data is not to be kept in caches.
fn no_store(response: &mut Response) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
}

#[derive(Deserialize)]
pub struct DeactivateForm {
    reason: String,
    #[serde(default)]
    note: String,
}

/// `POST /console/panel/members/{id}/deactivate`.
pub async fn deactivate(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    lang: Lang,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DeactivateForm>,
) -> Response {
    let outcome = registry::deactivate(&state, id, &form.reason, &form.note, &user.actor()).await;
    back(
        outcome
            .map(|()| format!("#{id}"))
            .map_err(|e| in_words(&e, lang)),
    )
}

/// `GET /console/panel/export.csv`: every member, inactive ones too.
pub async fn export_csv(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
) -> Result<Response, PageError> {
    let table = registry::export(&state).await?;
    Ok(download::attachment(
        download::CSV,
        &format!("panel-{}.csv", state.today()),
        table.to_csv(),
    ))
}

/// `GET /console/panel/export.xlsx`: the same as a workbook.
pub async fn export_xlsx(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
) -> Result<Response, PageError> {
    let table = registry::export(&state).await?;
    let bytes = table
        .to_xlsx("定向评议名单")
        .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(download::attachment(
        download::XLSX,
        &format!("panel-{}.xlsx", state.today()),
        bytes,
    ))
}

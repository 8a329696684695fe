//! A report as a form sends it: the typed fields and the evidence files, read from a
//! urlencoded or multipart body within the upload limits, checked and filed; a refusal comes
//! back in the page's words beside its field.

use crate::{
    csrf::{self, CsrfUpload},
    error::PageError,
    pages::Page,
    state::AppState,
};
use axum::{extract::multipart::MultipartError, http::StatusCode};
use chrono::NaiveDate;
use minping_app::{
    ErrorKind, WorkflowError,
    reports::{self, Filed},
};
use minping_domain::report::{
    MAX_EVIDENCE_TOTAL_BYTES, NewEvidence, ReportDraft, ReportError, ReportSource, check_evidence,
};
use serde::Deserialize;
use std::fmt::Write;

/// The largest report form kept: the evidence files at their limit, and room for the
/// fields around them.
pub const UPLOAD_LIMIT: usize = MAX_EVIDENCE_TOTAL_BYTES + 1024 * 1024;

/// The largest report form read to its end. Past [`UPLOAD_LIMIT`] the rest is read and
/// dropped, so that a citizen who attached too much gets the form back with what was typed
/// (a server that stops reading resets the connection under the browser's upload); past
/// this the connection is cut.
pub const READ_LIMIT: usize = 4 * UPLOAD_LIMIT;

/// What was typed, kept when the form comes back with an error.
#[derive(Deserialize, Default)]
pub(super) struct ReportForm {
    #[serde(default)]
    pub(super) unit_id: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) staff: String,
    #[serde(default)]
    pub(super) occurred_on: String,
    #[serde(default)]
    pub(super) contact: String,
    /// Staff intake only: `hotline`, `letter` or `visit`.
    #[serde(default)]
    pub(super) source: String,
}

/// A report refused: what to show, and beside which field.
pub(super) struct Refusal {
    pub(super) message: String,
    pub(super) field: String,
}

impl Refusal {
    /// A refusal by its code, in the page's words (`report.err.<code>`).
    pub(super) fn new(page: &Page, code: &str, field: &str) -> Self {
        Self {
            message: page.t(&format!("report.err.{code}")),
            field: field.into(),
        }
    }
}

impl ReportForm {
    /// The report as typed, or the error to show beside the field.
    pub(super) fn draft(&self, page: &Page) -> Result<ReportDraft, Refusal> {
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
pub(super) struct Submission {
    pub(super) form: ReportForm,
    /// The files as sent, (name, bytes), unchecked.
    pub(super) files: Vec<(String, Vec<u8>)>,
    /// The form went over [`UPLOAD_LIMIT`] while it was read.
    pub(super) over_limit: bool,
}

impl Submission {
    /// Reads the form, its CSRF token already checked. A form without files may come
    /// urlencoded; a file input left empty sends nothing to keep.
    pub(super) async fn read(upload: CsrfUpload) -> Result<Self, PageError> {
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
            // Bytes of the form read so far; past UPLOAD_LIMIT nothing more is kept.
            let mut read_bytes = 0usize;
            while let Some(mut field) = multipart.next_field().await? {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().unwrap_or_default().to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await? {
                    read_bytes += chunk.len();
                    if read_bytes > UPLOAD_LIMIT {
                        sent.over_limit = true;
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                if sent.over_limit {
                    sent.files.clear();
                    continue;
                }
                if name == "evidence" {
                    if !bytes.is_empty() || !file_name.is_empty() {
                        sent.files.push((file_name, bytes));
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
                *slot = String::from_utf8_lossy(&bytes).into_owned();
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
    pub(super) fn had_files(&self) -> bool {
        !self.files.is_empty() || self.over_limit
    }

    /// The files, checked.
    pub(super) fn evidence(&mut self) -> Result<Vec<NewEvidence>, ReportError> {
        if self.over_limit {
            return Err(ReportError::FilesTooLarge);
        }
        check_evidence(std::mem::take(&mut self.files))
    }
}

/// Checks and stores a report sent through a form with its evidence files. A refusal comes
/// back in the page's language, naming the file concerned; a failure of the server is an
/// error page.
pub(super) async fn file_report(
    state: &AppState,
    page: &Page,
    form: &ReportForm,
    evidence: Result<Vec<NewEvidence>, reports::ReportError>,
    source: ReportSource,
    taken_by: Option<&minping_storage::Actor>,
    quota_for: Option<std::net::IpAddr>,
) -> Result<Result<Filed, Refusal>, PageError> {
    let draft = match form.draft(page) {
        Ok(draft) => draft,
        Err(refused) => return Ok(Err(refused)),
    };
    // The client's hourly evidence allowance is spent only by a report that reads, so one
    // sent again after fixing a typo is not refused for the files it brought before.
    let evidence = match (evidence, quota_for) {
        (Ok(files), Some(addr)) => {
            let bytes: u64 = files.iter().map(|f| f.bytes().len() as u64).sum();
            if bytes > 0 && !state.evidence_quota.take(addr, bytes) {
                Err(reports::ReportError::EvidenceQuota)
            } else {
                Ok(files)
            }
        }
        (evidence, _) => evidence,
    };
    let outcome = match evidence {
        Ok(evidence) => reports::file(state, draft, &evidence, source, taken_by).await,
        Err(e) => Err(e),
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

//! Errors at the HTTP edge: JSON for the API, a page for people. Bad input is always a 4xx;
//! a 5xx means the server or its database failed.

use crate::i18n::Lang;
use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use minping_app::{ErrorKind, WorkflowError};
use serde::Serialize;

/// An API error, sent as `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable machine code, e.g. `unknown_unit`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The offending field, in JSON path notation, when there is one.
    pub field: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
/// The body of every API error.
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
/// What went wrong.
pub struct ErrorDetail {
    /// Stable machine code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The offending field, if any.
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    /// The same error, naming a field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }

    /// 401: no valid credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in or send an API token (Authorization: Bearer …)",
        )
    }

    /// 403: signed in, but the role may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
        )
    }
}

impl ApiError {
    /// The answer to a workflow error: its kind's status, its code, its English message and
    /// the field at fault. Server-side failures are logged with their cause and answered
    /// without it.
    pub fn workflow(e: &dyn WorkflowError) -> Self {
        let status = status_of(e.kind());
        let message = match e.kind() {
            ErrorKind::Unavailable => {
                tracing::error!(error = ?e, "storage unavailable");
                "the database is unavailable; try again shortly; nothing was changed".to_string()
            }
            ErrorKind::Internal => {
                tracing::error!(error = ?e, "internal error");
                "internal error".to_string()
            }
            _ => e.to_string(),
        };
        Self {
            status,
            code: e.code().to_string(),
            message,
            field: e.field(),
        }
    }
}

/// The HTTP status of each kind of workflow error: the one place they are mapped.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A workflow error in a reader's language: its own sentences where the domain words it in
/// both languages, else the translation of its code (`error.<code>`) with its values filled
/// in, else its English sentence.
pub fn in_words(e: &dyn WorkflowError, lang: Lang) -> String {
    if matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal) {
        return lang.t(&format!("error.{}", e.code()));
    }
    if let Some(zh) = e.message_zh() {
        // The domain words this error itself, in both languages.
        return match lang {
            Lang::Zh => zh,
            Lang::En => e.to_string(),
        };
    }
    let key = format!("error.{}", e.code());
    let template = lang.t(&key);
    if template.ends_with(&key) {
        return e.to_string();
    }
    e.params().into_iter().fold(template, |t, (name, value)| {
        t.replace(&format!("%{{{name}}}"), &value)
    })
}

/// Each workflow's errors answer through [`ApiError::workflow`] and [`PageError::workflow`].
macro_rules! workflow_errors {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(e: $error) -> Self {
                ApiError::workflow(&e)
            }
        }
        impl From<$error> for PageError {
            fn from(e: $error) -> Self {
                PageError::workflow(&e)
            }
        }
    )*};
}

workflow_errors!(
    minping_storage::StorageError,
    minping_app::error::NameError,
    minping_app::accountability::SanctionError,
    minping_app::accounts::AccountError,
    minping_app::conflicts::ConflictError,
    minping_app::draws::DrawError,
    minping_app::entry::EntryError,
    minping_app::forms::FormsError,
    minping_app::intake::IntakeError,
    minping_app::integrity::IntegrityError,
    minping_app::notice::NoticeError,
    minping_app::org::OrgError,
    minping_app::panel::PanelError,
    minping_app::reports::ReportError,
    minping_app::results::ResultsError,
    minping_app::rounds::RoundError,
);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.body_text(),
            ),
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            other => Self::new(StatusCode::BAD_REQUEST, "malformed_json", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_query", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// An error shown to a person as a page.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    /// A page error with a status and a message (shown in both languages where given so).
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "页面不存在 · Not found")
    }
}

impl PageError {
    /// A workflow error as a page, in both languages (the page has no language of its own).
    pub fn workflow(e: &dyn WorkflowError) -> Self {
        let zh = in_words(e, Lang::Zh);
        let en = in_words(e, Lang::En);
        let message = if zh == en {
            zh
        } else {
            format!("{zh} · {en}")
        };
        Self::new(status_of(e.kind()), message)
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::new(e.status, e.message)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let message = escape_html(&self.message);
        let body = format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <link rel=\"stylesheet\" href=\"/static/style.css\"><title>{status}</title></head>\
             <body><main class=\"narrow\"><h1>{status}</h1><p>{message}</p>\
             <p><a href=\"/\">返回首页 · Home</a></p></main></body></html>",
            status = self.status.as_u16(),
        );
        (self.status, Html(body)).into_response()
    }
}

/// Escapes text for HTML outside templates (templates escape on their own).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Any workflow's error, for a console action that may fail in several workflows and reports
/// the failure back on the page it returns to, in the reader's language.
pub struct Failure(pub Box<dyn WorkflowError + Send + Sync>);

impl<E: WorkflowError + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(Box::new(e))
    }
}

impl Failure {
    /// The failure in a reader's language.
    pub fn in_words(&self, lang: Lang) -> String {
        in_words(self.0.as_ref(), lang)
    }
}

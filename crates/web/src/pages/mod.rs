//! Server-rendered pages: public ones, sign-in, and the organizer console. Every page works
//! without JavaScript on a phone-sized screen; every form carries the CSRF token.

mod accountability;
mod audit;
mod ballot;
mod console;
mod draws;
mod entry;
pub mod flash;
mod integrity;
mod login;
mod panel;
mod public;
mod reports;

use crate::{auth::CurrentUser, csrf::CsrfToken, i18n::Lang, state::Shared};
use axum::{
    Router,
    extract::{FromRequestParts, Path},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get, post},
};
use minping_domain::Role;
use rust_embed::RustEmbed;

/// Who may use a page route. The handlers enforce it; the table lets tests check every
/// route against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Only these roles.
    Roles(&'static [Role]),
}

const ORGANIZER: Access = Access::Roles(&[Role::Organizer]);
const STAFF: Access = Access::Roles(&Role::ALL);

/// Every page route: path, method, who may use it.
pub fn routes() -> Vec<(&'static str, &'static str, Access, MethodRouter<Shared>)> {
    vec![
        ("/", "GET", Access::Public, get(public::home)),
        ("/method", "GET", Access::Public, get(public::method)),
        ("/results", "GET", Access::Public, get(public::results_list)),
        (
            "/rounds/{id}/results",
            "GET",
            Access::Public,
            get(public::round_results),
        ),
        (
            "/rounds/{id}/ballot",
            "GET",
            Access::Public,
            get(ballot::form),
        ),
        (
            "/rounds/{id}/ballot",
            "POST",
            Access::Public,
            post(ballot::submit).layer(axum::extract::DefaultBodyLimit::max(ballot::BODY_LIMIT)),
        ),
        (
            "/receipts/{receipt}",
            "GET",
            Access::Public,
            get(ballot::receipt),
        ),
        ("/receipts", "GET", Access::Public, get(ballot::lookup)),
        (
            "/receipts",
            "POST",
            Access::Public,
            post(ballot::lookup_posted),
        ),
        (
            "/receipts/new",
            "GET",
            Access::Public,
            get(ballot::fresh_receipt),
        ),
        ("/login", "GET", Access::Public, get(login::form)),
        ("/login", "POST", Access::Public, post(login::submit)),
        ("/logout", "POST", Access::Public, post(login::logout)),
        ("/static/{file}", "GET", Access::Public, get(asset)),
        (
            "/statistics",
            "GET",
            Access::Public,
            get(accountability::statistics_page),
        ),
        ("/reports/new", "GET", Access::Public, get(reports::form)),
        (
            "/reports/new",
            "POST",
            Access::Public,
            post(reports::submit).layer(axum::extract::DefaultBodyLimit::max(reports::READ_LIMIT)),
        ),
        ("/reports/track", "GET", Access::Public, get(reports::track)),
        (
            "/console/reports",
            "GET",
            reports::CONSOLE,
            get(reports::list),
        ),
        (
            "/console/reports/intake",
            "POST",
            reports::CONSOLE,
            post(reports::staff_intake)
                .layer(axum::extract::DefaultBodyLimit::max(reports::READ_LIMIT)),
        ),
        (
            "/console/reports/{id}",
            "GET",
            reports::CONSOLE,
            get(reports::detail),
        ),
        (
            "/console/reports/{id}/evidence/{evidence_id}",
            "GET",
            reports::CONSOLE,
            get(reports::evidence_file),
        ),
        (
            "/console/reports/{id}/transition",
            "POST",
            reports::INVESTIGATORS,
            post(reports::transition),
        ),
        (
            "/console/rounds/{id}/sanctions",
            "GET",
            accountability::LEADERS,
            get(accountability::round_sanctions),
        ),
        (
            "/console/sanctions/{id}/decision",
            "POST",
            ORGANIZER,
            post(accountability::decide),
        ),
        (
            "/console/rounds/{id}/notice.pdf",
            "GET",
            accountability::LEADERS,
            get(accountability::notice_pdf),
        ),
        (
            "/console/audit",
            "GET",
            accountability::LEADERS,
            get(audit::show),
        ),
        (
            "/console/promotion",
            "GET",
            accountability::LEADERS,
            get(accountability::promotion),
        ),
        (
            "/console/promotion/checks",
            "POST",
            ORGANIZER,
            post(accountability::check),
        ),
        ("/console", "GET", STAFF, get(console::dashboard)),
        (
            "/console/tokens/revoke",
            "POST",
            STAFF,
            post(console::revoke_token),
        ),
        ("/console/units", "GET", ORGANIZER, get(console::units)),
        (
            "/console/agencies",
            "POST",
            ORGANIZER,
            post(console::create_agency),
        ),
        (
            "/console/units",
            "POST",
            ORGANIZER,
            post(console::create_unit),
        ),
        (
            "/console/units/{id}/active",
            "POST",
            ORGANIZER,
            post(console::set_unit_active),
        ),
        ("/console/people", "GET", ORGANIZER, get(console::people)),
        (
            "/console/people",
            "POST",
            ORGANIZER,
            post(console::create_person),
        ),
        (
            "/console/posts",
            "POST",
            ORGANIZER,
            post(console::assign_post),
        ),
        ("/console/rounds", "GET", ORGANIZER, get(console::rounds)),
        (
            "/console/rounds",
            "POST",
            ORGANIZER,
            post(console::create_round),
        ),
        (
            "/console/rounds/{id}",
            "GET",
            ORGANIZER,
            get(console::round),
        ),
        (
            "/console/rounds/{id}/transition",
            "POST",
            ORGANIZER,
            post(console::transition),
        ),
        (
            "/console/rounds/{id}/quarantine",
            "GET",
            ORGANIZER,
            get(integrity::show),
        ),
        (
            "/console/rounds/{id}/quarantine/scan",
            "POST",
            ORGANIZER,
            post(integrity::scan),
        ),
        (
            "/console/rounds/{id}/quarantine/decide",
            "POST",
            ORGANIZER,
            post(integrity::decide),
        ),
        (
            "/console/rounds/{id}/panel",
            "GET",
            ORGANIZER,
            get(draws::show),
        ),
        (
            "/console/rounds/{id}/panel/freeze",
            "POST",
            ORGANIZER,
            post(draws::freeze),
        ),
        (
            "/console/rounds/{id}/panel/draw",
            "POST",
            ORGANIZER,
            post(draws::draw),
        ),
        (
            "/console/rounds/{id}/panel/mailed",
            "POST",
            ORGANIZER,
            post(draws::mailed),
        ),
        (
            "/console/rounds/{id}/panel/mailing.csv",
            "GET",
            ORGANIZER,
            get(draws::mailing_csv),
        ),
        (
            "/console/rounds/{id}/panel/forms.pdf",
            "GET",
            ORGANIZER,
            get(draws::forms_pdf),
        ),
        (
            "/console/rounds/{id}/panel/reprints",
            "POST",
            ORGANIZER,
            post(draws::ask_reprint),
        ),
        (
            "/console/reprints/{id}/decision",
            "POST",
            ORGANIZER,
            post(draws::decide_reprint),
        ),
        (
            "/console/conflicts/{id}/resolve",
            "POST",
            ORGANIZER,
            post(draws::resolve),
        ),
        ("/console/panel", "GET", ORGANIZER, get(panel::members)),
        (
            "/console/panel/import",
            "POST",
            ORGANIZER,
            post(panel::import).layer(axum::extract::DefaultBodyLimit::max(panel::UPLOAD_LIMIT)),
        ),
        (
            "/console/panel/members/{id}/deactivate",
            "POST",
            ORGANIZER,
            post(panel::deactivate),
        ),
        (
            "/console/panel/export.csv",
            "GET",
            ORGANIZER,
            get(panel::export_csv),
        ),
        (
            "/console/panel/export.xlsx",
            "GET",
            ORGANIZER,
            get(panel::export_xlsx),
        ),
        ("/entry", "GET", entry::ACCESS, get(entry::index)),
        ("/entry/{id}", "GET", entry::ACCESS, get(entry::form)),
        ("/entry/{id}", "POST", entry::ACCESS, post(entry::submit)),
        (
            "/console/rounds/{id}/adjudication",
            "GET",
            ORGANIZER,
            get(entry::adjudication),
        ),
        (
            "/console/rounds/{id}/adjudication",
            "POST",
            ORGANIZER,
            post(entry::decide),
        ),
    ]
}

/// The page router; with `limited`, sign-in attempts are rate-limited per address.
pub fn router(limited: bool) -> Router<Shared> {
    routes()
        .into_iter()
        .fold(Router::new(), |r, (path, method, _, handler)| {
            let handler = if limited && path == "/login" && method == "POST" {
                handler.layer(crate::ratelimit::sign_in())
            } else {
                handler
            };
            r.route(path, handler)
        })
        .layer(axum::middleware::from_fn(crate::i18n::remember))
}

/// What every page's layout needs: language, CSRF token, who is signed in.
pub struct Page {
    /// The visitor's language.
    pub lang: Lang,
    /// The CSRF token for forms on the page.
    pub csrf: String,
    /// The signed-in user's name and role, if any.
    pub user: Option<(String, Role)>,
    /// The path, for the language switch.
    pub path: String,
}

impl Page {
    /// Translates a key into the page's language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// Translates `prefix.key`, for names of states, sources and kinds.
    pub fn t2(&self, prefix: &str, key: impl std::fmt::Display) -> String {
        self.t(&format!("{prefix}.{key}"))
    }

    /// A round state's name in the page's language.
    pub fn state_name(&self, state: &str) -> String {
        self.t(&format!("state.{state}"))
    }

    /// Whether the page is in English.
    pub fn en(&self) -> bool {
        self.lang.is_en()
    }

    /// The signed-in user's name.
    pub fn user_name(&self) -> String {
        self.user
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    }

    /// Whether the signed-in user is the organizer.
    pub fn is_organizer(&self) -> bool {
        matches!(self.user, Some((_, Role::Organizer)))
    }
}

impl FromRequestParts<Shared> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let lang = Lang::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let csrf = CsrfToken::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let user = CurrentUser::from_request_parts(parts, state)
            .await
            .map(|u| u.0)
            .unwrap_or(None);
        Ok(Page {
            lang,
            csrf: csrf.0,
            user: user.map(|u| (u.name, u.role)),
            path: parts.uri.path().to_string(),
        })
    }
}

/// Renders a template into a response.
pub fn render(t: impl askama::Template) -> Result<Response, crate::error::PageError> {
    Ok(axum::response::Html(t.render()?).into_response())
}

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

async fn asset(Path(file): Path<String>) -> Response {
    match Assets::get(&file) {
        Some(content) => {
            let mime = if file.ends_with(".css") {
                "text/css; charset=utf-8"
            } else if file.ends_with(".js") {
                "text/javascript; charset=utf-8"
            } else if file.ends_with(".png") {
                "image/png"
            } else if file.ends_with(".svg") {
                "image/svg+xml"
            } else {
                "application/octet-stream"
            };
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                content.data.into_owned(),
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

//! Signing in and out.

use super::{Page, render};
use crate::{
    auth::{SESSION_SIGNED_IN, SESSION_USER},
    csrf::CsrfForm,
    error::PageError,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use minping_app::accounts::SignIn;
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    page: Page,
    next: String,
    name: String,
    error: bool,
    /// Seconds to wait after too many failures.
    wait: Option<u64>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only same-site paths, so the sign-in page cannot be used to send people elsewhere: a
/// path of plain URL characters that does not start with `//`. Browsers drop tabs and line
/// breaks from an address and read a backslash as `/`, so `/<TAB>/evil.example` would be
/// another site: no such character is let through at all.
fn safe_next(next: Option<&str>) -> String {
    let path_char = |c: char| c.is_ascii_alphanumeric() || "-._~/?=&%+,:@".contains(c);
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.chars().all(path_char) => {
            n.to_string()
        }
        _ => "/console".to_string(),
    }
}

pub async fn form(page: Page, Query(q): Query<NextQuery>) -> Result<Response, PageError> {
    render(Login {
        page,
        next: safe_next(q.next.as_deref()),
        name: String::new(),
        error: false,
        wait: None,
    })
}

#[derive(Deserialize)]
pub struct Credentials {
    name: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn submit(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    crate::client::Client(client): crate::client::Client,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response, PageError> {
    let answer =
        minping_app::accounts::sign_in(&state, &form.name, &form.password, client.addr).await?;
    let next = safe_next(form.next.as_deref());
    match answer {
        SignIn::Accepted(u) => {
            // A new session id on sign-in, so a planted id cannot be ridden.
            session.cycle_id().await.map_err(|_| {
                PageError::new(StatusCode::SERVICE_UNAVAILABLE, "session store unavailable")
            })?;
            session.insert(SESSION_USER, u.id.0).await.map_err(|_| {
                PageError::new(StatusCode::SERVICE_UNAVAILABLE, "session store unavailable")
            })?;
            // When: a password changed later ends this session.
            session
                .insert(SESSION_SIGNED_IN, state.now().timestamp_micros())
                .await
                .map_err(|_| {
                    PageError::new(StatusCode::SERVICE_UNAVAILABLE, "session store unavailable")
                })?;
            Ok(Redirect::to(&next).into_response())
        }
        refused => {
            let wait = match refused {
                SignIn::Wait(seconds) => Some(seconds),
                _ => None,
            };
            let mut response = render(Login {
                page,
                next,
                name: form.name,
                error: true,
                wait,
            })?;
            *response.status_mut() = if wait.is_some() {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            Ok(response)
        }
    }
}

pub async fn logout(
    session: Session,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    session.flush().await.map_err(|_| {
        PageError::new(StatusCode::SERVICE_UNAVAILABLE, "session store unavailable")
    })?;
    Ok(Redirect::to("/").into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_same_site_path_or_the_console() {
        for ok in [
            "/console",
            "/console/rounds/3?error=x",
            "/reports/track",
            "/",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "//evil.example/",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/ /evil.example",
            "https://evil.example/",
            "evil.example",
            "/控制台",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/console", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/console");
    }
}

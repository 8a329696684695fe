//! CSRF protection for every form, in three layers:
//!
//! - a random nonce in a `SameSite=Strict` cookie, and in each form a token that is the
//!   server's MAC of that nonce and, once someone has signed in, the session's id: a
//!   cross-site page can make the browser send the cookie but can neither read it nor
//!   compute the token, and a cookie planted from elsewhere (a sibling site, a network on
//!   plain HTTP) is useless without the deployment's key; signing in starts a new session,
//!   so forms from before it expire;
//! - for every unsafe request to a page, the browser's own word on where it came from:
//!   `Sec-Fetch-Site` must say the same origin (or a typed address), and an `Origin`, when
//!   sent, must be this host;
//! - `SameSite` cookies.
//!
//! The API is asked with a bearer token, or by nobody, and needs none of this; a request to
//! it that a session cookie signs in is held to the browser's word on where it came from.

use crate::{
    auth::SESSION_USER, error::PageError, session::COOKIE as SESSION_COOKIE, state::Shared,
};
use axum::{
    body::Bytes,
    extract::{
        FromRequest, FromRequestParts, Multipart, Request, State, multipart::MultipartError,
    },
    http::{HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::RngCore;
use serde::de::DeserializeOwned;

/// The cookie's name.
pub const COOKIE: &str = "minping_csrf";
/// The hidden form field's name.
pub const FIELD: &str = "_csrf";

/// This visitor's CSRF token, to print into forms (and to expect back).
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// Reads a cookie from the request headers.
pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The form token for a nonce and a session: the deployment's MAC of both, so it cannot be
/// made without the key and does not carry over from one session to another.
pub fn form_token(state: &Shared, nonce: &str, session: &str) -> String {
    let mac = state
        .app
        .sign("csrf", format!("{nonce}|{session}").as_bytes());
    mac[..32].to_string()
}

/// Whether an unsafe request to a page came from this site, by what the browser says of it.
/// `Sec-Fetch-Site` decides when sent (every current browser sends it); else an `Origin`
/// naming another host than this request's, or the site's public address, refuses (behind
/// a proxy the request may name another host than the public one). `Origin: null` says
/// nothing: browsers send it for the site's own forms too, under
/// `Referrer-Policy: no-referrer`. Requests that say nothing (older browsers, scripts) are
/// left to the token check.
fn same_site(parts: &axum::http::HeaderMap, public_url: &str) -> bool {
    let header = |name: &str| parts.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    let authority = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_ascii_lowercase())
    };
    match header("origin") {
        None | Some("null") => true,
        Some(origin) => {
            let Some(from) = authority(origin) else {
                return false;
            };
            header("host").is_some_and(|h| h.eq_ignore_ascii_case(&from))
                || authority(public_url).is_some_and(|p| p == from)
        }
    }
}

/// Gives every visitor a nonce (the existing cookie's, or a new one set on the response) and
/// the form token that goes with it, and refuses unsafe page requests that a browser says
/// came from another site.
pub async fn ensure_cookie(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The API is outside this unless a session cookie, not a token, says who is asking.
    let by_cookie = !req.uri().path().starts_with("/api/")
        || !req.headers().contains_key(header::AUTHORIZATION)
            && cookie(req.headers(), SESSION_COOKIE).is_some();
    if unsafe_method && by_cookie && !same_site(req.headers(), &state.settings().public_url) {
        return refused().into_response();
    }
    let existing = cookie(req.headers(), COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(String::from);
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(|| {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    });
    // Bound to the session once someone signs in to it (signing in starts a new one), and
    // to none before: a visitor's session may begin while a page renders (the language
    // they chose is kept in it), which must not void the form on that page.
    let signed_in = match req.extensions().get::<tower_sessions::Session>() {
        Some(session) => matches!(session.get::<i64>(SESSION_USER).await, Ok(Some(_))),
        None => false,
    };
    let session = match signed_in {
        true => cookie(req.headers(), SESSION_COOKIE).unwrap_or(""),
        false => "",
    };
    let token = form_token(&state, &nonce, session);
    req.extensions_mut().insert(CsrfToken(token));
    let mut response = next.run(req).await;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    if fresh
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{COOKIE}={nonce}; Path=/; HttpOnly; SameSite=Strict{secure}"
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The token a request's form must carry.
fn expected(req: &Request) -> Option<String> {
    req.extensions().get::<CsrfToken>().map(|t| t.0.clone())
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "csrf layer missing"))
    }
}

/// A form body that carried the visitor's CSRF token; `T` is parsed from the same body.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = expected(&req);
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                PageError::new(e.status(), "表单过大 · Form too large")
            } else {
                PageError::new(StatusCode::BAD_REQUEST, "表单无法读取 · Unreadable form")
            }
        })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
            PageError::new(StatusCode::BAD_REQUEST, "表单无法读取 · Unreadable form")
        })?;
        check(expected.as_deref(), token_in(&pairs))?;
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|e| {
                PageError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("表单内容有误 · Invalid form: {e}"),
                )
            })
    }
}

/// A form that may carry files, having carried the visitor's CSRF token: an ordinary form
/// (which has no files), or a `multipart/form-data` body whose first field was the token,
/// checked before anything else is read.
pub enum CsrfUpload {
    /// An `application/x-www-form-urlencoded` body, to parse.
    Fields(Bytes),
    /// A multipart body, to read on from the field after the token.
    Multipart(Multipart),
}

impl<S: Send + Sync> FromRequest<S> for CsrfUpload {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = expected(&req);
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let body = Bytes::from_request(req, state).await.map_err(|_| {
                PageError::new(StatusCode::BAD_REQUEST, "表单无法读取 · Unreadable form")
            })?;
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(&body).unwrap_or_default();
            check(expected.as_deref(), token_in(&pairs))?;
            return Ok(CsrfUpload::Fields(body));
        }
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| PageError::new(e.status(), e.body_text()))?;
        let token = match form.next_field().await.map_err(upload_failed)? {
            Some(field) if field.name() == Some(FIELD) => {
                Some(field.text().await.map_err(upload_failed)?)
            }
            _ => None,
        };
        check(expected.as_deref(), token.as_deref())?;
        Ok(CsrfUpload::Multipart(form))
    }
}

/// The page for an upload that broke off or went over its size limit.
pub fn upload_failed(e: MultipartError) -> PageError {
    PageError::new(
        e.status(),
        format!("上传失败 · Upload failed: {}", e.body_text()),
    )
}

/// The token a urlencoded form sent.
fn token_in(pairs: &[(String, String)]) -> Option<&str> {
    pairs
        .iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.as_str())
}

/// Whether the form sent the visitor's token; a 403 page if not.
fn check(expected: Option<&str>, sent: Option<&str>) -> Result<(), PageError> {
    let valid = matches!((expected, sent), (Some(a), Some(b)) if constant_time_eq(a.as_bytes(), b.as_bytes()));
    if valid { Ok(()) } else { Err(refused()) }
}

/// The page for a form that did not come from this site, or from an earlier session.
fn refused() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "表单已过期或来源不明，请返回刷新后重试 · The form expired or came from elsewhere; go back, reload and try again",
    )
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_browser_says_where_a_form_came_from() {
        let public = "https://minping.example.gov.cn";
        let ok = |pairs| same_site(&headers(pairs), public);
        assert!(ok(&[("sec-fetch-site", "same-origin"), ("origin", "null")]));
        assert!(!ok(&[("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[("sec-fetch-site", "same-site")]));
        // Without Sec-Fetch-Site: the Origin, against the request's host or the public one
        // (behind a proxy that names another host).
        assert!(ok(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ]));
        assert!(ok(&[
            ("origin", "https://minping.example.gov.cn"),
            ("host", "10.0.0.5:8080")
        ]));
        assert!(!ok(&[
            ("origin", "https://evil.example"),
            ("host", "10.0.0.5:8080")
        ]));
        assert!(!ok(&[("origin", "garbage"), ("host", "10.0.0.5:8080")]));
        assert!(ok(&[("origin", "null")]) && ok(&[]), "left to the token");
    }
}

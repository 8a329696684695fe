//! CSRF protection for every form: a random token in a `SameSite=Strict` cookie that each
//! form repeats in a hidden `_csrf` field (double submit). A cross-site page can make the
//! browser send the cookie but cannot read it to fill the field.

use crate::error::PageError;
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Multipart, Request, multipart::MultipartError},
    http::{HeaderValue, StatusCode, header, request::Parts},
    middleware::Next,
    response::Response,
};
use rand::RngCore;
use serde::de::DeserializeOwned;

/// The cookie's name.
pub const COOKIE: &str = "minping_csrf";
/// The hidden form field's name.
pub const FIELD: &str = "_csrf";

/// This visitor's CSRF token, to print into forms.
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

/// Gives every visitor a token: the existing cookie's, or a new one set on the response.
pub async fn ensure_cookie(mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(String::from);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(|| {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    });
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(req).await;
    if fresh
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
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
        let expected = cookie(req.headers(), COOKIE).map(String::from);
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
        let expected = cookie(req.headers(), COOKIE).map(String::from);
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

/// Whether the form sent the cookie's token; a 403 page if not.
fn check(expected: Option<&str>, sent: Option<&str>) -> Result<(), PageError> {
    let valid = matches!((expected, sent), (Some(a), Some(b)) if constant_time_eq(a.as_bytes(), b.as_bytes()));
    if valid {
        Ok(())
    } else {
        Err(PageError::new(
            StatusCode::FORBIDDEN,
            "表单已过期或来源不明，请返回刷新后重试 · The form expired or came from elsewhere; go back, reload and try again",
        ))
    }
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

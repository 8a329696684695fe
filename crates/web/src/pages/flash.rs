//! What the last action did, shown once on the page it returns to: carried from the POST
//! to the page in a short-lived cookie the server signs, never in the address. A link
//! cannot make the console show text of someone else's choosing, and nothing said (a
//! tracking code, an error naming a person) lands in browser history or server logs.

use crate::{csrf::cookie, state::Shared};
use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderValue, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The cookie's name.
pub const COOKIE: &str = "minping_flash";

/// The longest text a flash carries, in bytes (a cookie holds about 4 KiB).
const MAX_TEXT: usize = 1500;

/// What an action did: done, or refused with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flash {
    /// What went wrong.
    pub error: Option<String>,
    /// What was done.
    pub done: Option<String>,
}

impl Flash {
    /// The flash of an outcome.
    pub fn of(outcome: Result<String, String>) -> Self {
        match outcome {
            Ok(done) => Self {
                done: Some(done),
                error: None,
            },
            Err(error) => Self {
                error: Some(error),
                done: None,
            },
        }
    }

    /// A redirect to `path` that shows this flash there.
    pub fn redirect(self, path: &str) -> Response {
        let mut response = Redirect::to(path).into_response();
        response.extensions_mut().insert(self);
        response
    }

    fn encode(&self, state: &Shared) -> Option<String> {
        let (kind, text) = match (&self.error, &self.done) {
            (Some(e), _) => ("e", e.as_str()),
            (None, Some(d)) => ("d", d.as_str()),
            (None, None) => return None,
        };
        let mut end = text.len().min(MAX_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let payload = format!("{kind}{}", URL_SAFE_NO_PAD.encode(&text.as_bytes()[..end]));
        let mac = state.app.sign("flash", payload.as_bytes());
        Some(format!("{payload}.{}", &mac[..32]))
    }

    fn decode(state: &Shared, value: &str) -> Option<Self> {
        let (payload, mac) = value.rsplit_once('.')?;
        let expected = state.app.sign("flash", payload.as_bytes());
        if !crate::csrf::constant_time_eq(mac.as_bytes(), &expected.as_bytes()[..32]) {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload.get(1..)?).ok()?).ok()?;
        Some(match payload.as_bytes().first()? {
            b'e' => Self {
                error: Some(text),
                done: None,
            },
            b'd' => Self {
                done: Some(text),
                error: None,
            },
            _ => return None,
        })
    }
}

/// Reads a flash the request brings (if its signature holds) for the page to show, and
/// sets the one a response carries; a page shown with a flash clears it, so it shows once.
pub async fn carry(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let brought = cookie(req.headers(), COOKIE).map(String::from);
    if let Some(flash) = brought.as_deref().and_then(|v| Flash::decode(&state, v)) {
        req.extensions_mut().insert(flash);
    }
    let mut response = next.run(req).await;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let set = match response.extensions_mut().remove::<Flash>() {
        Some(flash) => flash.encode(&state).map(|v| {
            format!("{COOKIE}={v}; Path=/; HttpOnly; SameSite=Strict; Max-Age=120{secure}")
        }),
        None if brought.is_some() && !response.status().is_redirection() => Some(format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
        )),
        None => None,
    };
    if let Some(v) = set.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Flash>().cloned().unwrap_or_default())
    }
}

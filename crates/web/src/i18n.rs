//! Languages: Simplified Chinese first, English second. Chosen by `?lang=`, then the
//! remembered cookie, then `Accept-Language`.

use axum::{
    extract::{FromRequestParts, Request},
    http::{HeaderValue, header, request::Parts},
    middleware::Next,
    response::Response,
};
use std::convert::Infallible;

/// The cookie that remembers an explicit choice.
const COOKIE: &str = "minping_lang";

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The locale code used by the translation files.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US`…
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Translates a key.
    pub fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }

    /// Whether this is English (templates pick names and descriptions with it).
    pub fn is_en(self) -> bool {
        self == Lang::En
    }
}

fn query_lang(parts: &Parts) -> Option<Lang> {
    parts
        .uri
        .query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        if let Some(l) = query_lang(parts) {
            return Ok(l);
        }
        if let Some(l) = crate::csrf::cookie(&parts.headers, COOKIE).and_then(Lang::parse) {
            return Ok(l);
        }
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(accept
            .split(',')
            .filter_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
            .next()
            .unwrap_or_default())
    }
}

/// Remembers an explicit `?lang=` choice in a cookie for the following pages.
pub async fn remember(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let chosen = query_lang(&parts);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(lang) = chosen
        && let Ok(v) =
            HeaderValue::from_str(&format!("{COOKIE}={}; Path=/; SameSite=Lax", lang.code()))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

//! The response headers every answer carries: what the browser may load and run, that no
//! other site may frame a page, that content types are not guessed, that no address travels
//! on in a `Referer`, and, where cookies are `Secure`, that the site is HTTPS only.

use crate::state::Shared;
use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
};
use tower_http::set_header::SetResponseHeaderLayer;

/// Scripts and styles come from the site's own files only (no inline script can run, so
/// injected markup cannot act); nothing may frame a page; forms post only to the site.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// HTTPS only for a year, subdomains included, once a browser has seen it over HTTPS.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Adds the headers to every response that does not set its own.
pub fn headers(router: Router<Shared>, https: bool) -> Router<Shared> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        // No page tells the next site where the visitor came from: a ballot page's address
        // must not travel on in a Referer header.
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ));
    if https {
        router.layer(set(
            header::STRICT_TRANSPORT_SECURITY,
            STRICT_TRANSPORT_SECURITY,
        ))
    } else {
        router
    }
}

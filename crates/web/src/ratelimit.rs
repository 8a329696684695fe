//! Rate limits on what anyone can send: form and API submissions per client, and a
//! stricter one on sign-in so passwords cannot be guessed at speed. A client is counted by
//! its address behind trusted proxies, an IPv6 client by its /64 (see [`crate::client`]).
//! On by default; load tests on loopback turn them off (`--rate-limit off`).

use crate::error::ApiError;
use axum::{
    body::Body,
    http::{Method, Response, StatusCode},
    response::IntoResponse,
};
use std::{sync::Arc, time::Duration};
use tower_governor::{
    GovernorError, GovernorLayer,
    governor::{GovernorConfig, GovernorConfigBuilder},
};

use crate::client::ClientKey;

type Config = GovernorConfig<ClientKey, governor::middleware::NoOpMiddleware>;
type Layer = GovernorLayer<ClientKey, governor::middleware::NoOpMiddleware, Body>;

/// Submissions (POST) per client address: a burst of 60, then 10 a second. Generous, since
/// many honest people may share one carrier-grade NAT address.
pub fn submissions() -> Layer {
    layer(
        GovernorConfigBuilder::default()
            .key_extractor(ClientKey)
            .period(Duration::from_millis(100))
            .burst_size(60)
            .methods(vec![Method::POST])
            .finish(),
    )
}

/// Sign-in attempts per client address: a burst of 10, then one every 2 seconds.
pub fn sign_in() -> Layer {
    layer(
        GovernorConfigBuilder::default()
            .key_extractor(ClientKey)
            .period(Duration::from_secs(2))
            .burst_size(10)
            .methods(vec![Method::POST])
            .finish(),
    )
}

fn layer(config: Option<Config>) -> Layer {
    let config = Arc::new(config.expect("non-zero rate limit parameters"));
    let limiter = config.limiter().clone();
    // Forget idle addresses now and then so the table does not grow without bound.
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limiter.retain_recent();
            }
        });
    }
    GovernorLayer::new(config).error_handler(refusal)
}

fn refusal(e: GovernorError) -> Response<Body> {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from your address; try again in {wait_time} s · 提交过于频繁，请稍后再试"),
            )
            .into_response();
            if let Ok(v) = wait_time.to_string().parse() {
                r.headers_mut().insert("retry-after", v);
            }
            r
        }
        GovernorError::UnableToExtractKey => ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_client",
            "the client address could not be determined",
        )
        .into_response(),
        GovernorError::Other { code, msg, .. } => {
            ApiError::new(code, "refused", msg.unwrap_or_default()).into_response()
        }
    }
}

//! Rate limits on what anyone can send: form and API submissions per client, a stricter
//! one on sign-in so passwords cannot be guessed at speed, and one on looking up receipts
//! and report tracking codes so they cannot be guessed at speed either. A client is counted by
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

/// Whether a request looks a secret code up: a receipt or a report's tracking code, by page
/// or API (the page's lookup box posts, and posts are limited already).
pub fn is_lookup(method: &Method, path: &str) -> bool {
    if *method != Method::GET && *method != Method::HEAD {
        return false;
    }
    let one_segment = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    path == "/reports/track"
        || one_segment("/receipts/") && path != "/receipts/new"
        || one_segment("/api/v1/receipts/")
        || one_segment("/api/v1/reports/")
}

/// Code lookups per client address: a burst of 30, then one a second. Someone following
/// their own receipt or report never comes near it; guessing codes at that pace gets
/// nowhere in a space of 10^17.
pub struct Lookups {
    limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}

impl Lookups {
    /// The limiter, forgetting idle addresses now and then.
    pub fn new() -> Arc<Self> {
        let quota = governor::Quota::per_second(std::num::NonZeroU32::MIN)
            .allow_burst(std::num::NonZeroU32::new(30).expect("non-zero"));
        let lookups = Arc::new(Self {
            limiter: governor::RateLimiter::keyed(quota),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&lookups);
            rt.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    match weak.upgrade() {
                        Some(l) => l.limiter.retain_recent(),
                        None => break,
                    }
                }
            });
        }
        lookups
    }
}

/// Refuses a lookup (see [`is_lookup`]) over the client's allowance with 429.
pub async fn limit_lookups(
    axum::extract::State(lookups): axum::extract::State<Arc<Lookups>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tower_governor::key_extractor::KeyExtractor;
    if is_lookup(req.method(), req.uri().path())
        && let Ok(key) = ClientKey.extract(&req)
        && let Err(not_until) = lookups.limiter.check_key(&key)
    {
        let wait = not_until
            .wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
            .as_secs()
            .max(1);
        return refusal(GovernorError::TooManyRequests {
            wait_time: wait,
            headers: None,
        });
    }
    next.run(req).await
}

/// Evidence bytes each client address may send, per hour (`evidence.per_client_mib_per_hour`
/// in the settings), counted in cells of 64 KiB: one client cannot fill the evidence
/// folder's allowance for everyone.
pub struct EvidenceQuota {
    limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
}

/// The unit the evidence quota counts in.
const QUOTA_CELL: u64 = 64 * 1024;

impl EvidenceQuota {
    /// A quota of `mib_per_hour`, all of it usable at once.
    pub fn new(mib_per_hour: u64) -> Self {
        let cells =
            u32::try_from((mib_per_hour * 1024 * 1024 / QUOTA_CELL).max(1)).unwrap_or(u32::MAX);
        let per_cell = Duration::from_secs(3600) / cells;
        let quota = governor::Quota::with_period(per_cell.max(Duration::from_nanos(1)))
            .expect("a non-zero period")
            .allow_burst(std::num::NonZeroU32::new(cells).expect("at least one cell"));
        Self {
            limiter: governor::RateLimiter::keyed(quota),
        }
    }

    /// Takes `bytes` from the allowance of the client at `addr`; false (and nothing taken)
    /// when it has not that much left.
    pub fn take(&self, addr: std::net::IpAddr, bytes: u64) -> bool {
        let cells = u32::try_from(bytes.div_ceil(QUOTA_CELL).max(1)).unwrap_or(u32::MAX);
        let Some(cells) = std::num::NonZeroU32::new(cells) else {
            return true;
        };
        matches!(
            self.limiter
                .check_key_n(&minping_domain::integrity::rate_limit_key(addr), cells),
            Ok(Ok(()))
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_receipts_and_tracking_codes_only() {
        let get = Method::GET;
        for path in [
            "/receipts/K7Q2M9XP4RTB",
            "/reports/track",
            "/api/v1/receipts/K7Q2M9XP4RTB",
            "/api/v1/reports/ABCD-EFGH-JK",
        ] {
            assert!(is_lookup(&get, path), "{path}");
        }
        for path in [
            "/receipts/new",
            "/receipts",
            "/api/v1/reports",
            "/api/v1/reports/7/evidence",
            "/rounds/1/results",
        ] {
            assert!(!is_lookup(&get, path), "{path}");
        }
        assert!(!is_lookup(&Method::POST, "/api/v1/receipts/K7Q2M9XP4RTB"));
    }

    #[test]
    fn one_client_cannot_send_more_evidence_than_its_hourly_allowance() {
        let quota = EvidenceQuota::new(60);
        let a: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        let b: std::net::IpAddr = "203.0.113.8".parse().unwrap();
        assert!(quota.take(a, 20 * 1024 * 1024));
        assert!(quota.take(a, 20 * 1024 * 1024));
        assert!(quota.take(a, 20 * 1024 * 1024));
        assert!(!quota.take(a, 1024 * 1024), "60 MiB spent");
        assert!(
            quota.take(b, 20 * 1024 * 1024),
            "another client has its own"
        );
        assert!(
            !quota.take(b, 61 * 1024 * 1024),
            "more than an hour's allowance at once"
        );
    }
}

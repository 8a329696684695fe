//! What every request handler can reach: the application and the HTTP settings.

use minping_app::App;
use std::sync::Arc;

/// Shared state: the application and what only the web needs.
pub struct AppState {
    /// The application every workflow runs in.
    pub app: App,
    /// The public base URL, for links printed elsewhere.
    pub base_url: String,
    /// Whether public submissions and sign-ins are rate-limited (on unless turned off).
    pub rate_limit: bool,
    /// Evidence each client address may send per hour.
    pub evidence_quota: std::sync::Arc<crate::ratelimit::EvidenceQuota>,
    /// Whether cookies are `Secure` (sent over HTTPS only) and HSTS is sent: on behind
    /// HTTPS, off only for a demo or a test on plain HTTP.
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see [`crate::client`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the open round is scanned for stuffing while ballots arrive; `None` only
    /// where nothing may run in the background (tests that drop their runtime at the end).
    pub scan_every: Option<std::time::Duration>,
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The web state of an application.
    pub fn new(app: App, base_url: String) -> Self {
        let trusted_proxies = app.settings().trusted_proxies.clone();
        let evidence_quota = std::sync::Arc::new(crate::ratelimit::EvidenceQuota::new(
            app.settings().evidence.per_client_mib_per_hour,
        ));
        Self {
            evidence_quota,
            app,
            base_url,
            rate_limit: true,
            secure_cookies: false,
            trusted_proxies,
            scan_every: Some(std::time::Duration::from_secs(60)),
        }
    }

    /// The same state without the background scan (see [`AppState::scan_every`]).
    pub fn without_background_scan(mut self) -> Self {
        self.scan_every = None;
        self
    }

    /// The same state also trusting `proxies` (from the command line), beside the ones in
    /// the settings.
    pub fn trusting(mut self, proxies: impl IntoIterator<Item = ipnet::IpNet>) -> Self {
        for p in proxies {
            if !self.trusted_proxies.contains(&p) {
                self.trusted_proxies.push(p);
            }
        }
        self
    }

    /// The same state with `Secure` cookies and HSTS (see [`AppState::secure_cookies`]).
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// The same state without rate limits, for load tests on loopback.
    pub fn without_rate_limit(mut self) -> Self {
        self.rate_limit = false;
        self
    }
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

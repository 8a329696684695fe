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
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The web state of an application.
    pub fn new(app: App, base_url: String) -> Self {
        Self {
            app,
            base_url,
            rate_limit: true,
        }
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

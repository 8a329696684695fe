//! The minping web application: public pages, the organizer console and the JSON API. It
//! holds HTTP only — routes, extractors, sign-in, CSRF, sessions, rate limits, templates —
//! and calls the workflows of [`minping_app`] for everything else.
//!
//! [`Application::build`] binds a port for an [`AppState`]; tests start it on a random port
//! or call its router directly.

pub mod api;
pub mod auth;
pub mod client;
pub mod csrf;
pub mod download;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod ratelimit;
pub mod security;
pub mod session;
pub mod state;

rust_i18n::i18n!("locales", fallback = "zh-CN");

use axum::Router;
use std::net::SocketAddr;
use tokio::net::TcpListener;

pub use state::{AppState, Shared};

/// A built application, bound to a port, ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: Shared,
}

impl Application {
    /// Binds `listen` (port 0 picks a free port) and builds the router over `state`.
    pub async fn build(state: Shared, listen: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        Ok(Self {
            listener,
            router: router(state.clone()),
            state,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until the process is stopped, scanning the open round for stuffing every
    /// minute while ballots arrive.
    pub async fn run(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let _stop_watch = state.scan_every.map(|every| {
            let watch =
                tokio::spawn(async move { minping_app::integrity::watch(&state, every).await });
            AbortOnDrop(watch.abort_handle())
        });
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The whole router: pages, console, API, static files.
pub fn router(state: Shared) -> Router {
    let limited = state.rate_limit;
    let app = Router::new()
        .merge(pages::router(limited))
        .merge(api::router().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::reject_bad_tokens,
        )));
    let app = if limited {
        app.layer(ratelimit::submissions())
            .layer(axum::middleware::from_fn_with_state(
                ratelimit::Lookups::new(),
                ratelimit::limit_lookups,
            ))
    } else {
        app
    };
    let app = app
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::flash::carry,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::ensure_cookie,
        ))
        .layer(session::layer(state.clone()))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    security::headers(app, state.secure_cookies)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            client::identify,
        ))
        .with_state(state)
}

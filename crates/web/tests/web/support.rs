//! Starts the application on a random port the way production does: its configuration read
//! by `Config::load` from a fresh data folder, over a fresh database — a SQLite file in that
//! folder, or a fresh schema on the PostgreSQL server named by `TEST_DATABASE_URL`.

#![allow(dead_code)]

use chrono::{NaiveDate, Utc};
use minping_app::{App, Config, accounts};
use minping_domain::{AgencyId, Role, RoundId, RoundLabel, RoundState, Settings, Unit, UnitId};
use minping_storage::{Actor, PgStore, SqliteStore, Storage};
use minping_web::{AppState, Application};
use std::{collections::HashMap, sync::Arc};

/// Runs a test body once per backend: `both!(name, |app| async move { … })` makes
/// `name::sqlite` and `name::postgres` (the latter skipped without `TEST_DATABASE_URL`).
/// Apps run without rate limits, as a load test on loopback would, unless the test says
/// `both!(name, limited, |app| …)`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        both!($name, false, $body);
    };
    ($name:ident, limited, $body:expr) => {
        both!($name, true, $body);
    };
    ($name:ident, $limited:literal, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let app = support::TestApp::spawn(support::Db::Sqlite, $limited).await;
                ($body)(app).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(app) = support::TestApp::spawn_pg($limited).await else {
                    eprintln!("TEST_DATABASE_URL is not set: PostgreSQL skipped");
                    return;
                };
                ($body)(app).await;
            }
        }
    };
}

/// Which database.
pub enum Db {
    Sqlite,
    Postgres(String),
}

/// A running application with a small district and one account per role.
pub struct TestApp {
    pub base: String,
    /// The application the server runs, for calling workflows directly.
    pub state: minping_web::Shared,
    pub store: Arc<dyn Storage>,
    /// Anonymous client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// An API token per role.
    pub tokens: HashMap<Role, String>,
    pub units: Vec<Unit>,
    pub open_round: RoundId,
    pub published_round: RoundId,
    pub closed_round: RoundId,
    /// The data folder: configuration, code key, and on SQLite the database `minping.db`.
    pub dir: tempfile::TempDir,
    /// On PostgreSQL: the server URL and this test's schema.
    pub pg: Option<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.pg.take() {
            // Best effort: a leftover schema is harmless, each test uses a new one.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Runtime::new()
                    .map(|rt| rt.block_on(PgStore::drop_schema(&url, &schema)))
            })
            .join();
        }
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// The key the test app digests one-time codes with, so tests can derive drawn codes.
pub const CODE_KEY: &[u8] = b"minping test code key";

impl TestApp {
    pub async fn spawn_pg(limited: bool) -> Option<Self> {
        let url = std::env::var("TEST_DATABASE_URL").ok()?;
        Some(Self::spawn(Db::Postgres(url), limited).await)
    }

    pub async fn spawn(db: Db, limited: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("code.key"), hex::encode(CODE_KEY)).unwrap();
        let config = Config::load(dir.path(), None).unwrap();
        let (store, pg): (Arc<dyn Storage>, _) = match db {
            Db::Sqlite => (
                Arc::new(
                    SqliteStore::open(&dir.path().join("minping.db"))
                        .await
                        .unwrap(),
                ),
                None,
            ),
            Db::Postgres(url) => {
                let schema = format!("t_{}", hex::encode(rand::random::<[u8; 6]>()));
                let store = PgStore::connect(&url, Some(&schema)).await.unwrap();
                (Arc::new(store), Some((url, schema)))
            }
        };
        let (units, rounds) = district(store.as_ref(), &config.settings).await;
        let app = App::new(store.clone(), config);
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let unit = (role == Role::Unit).then_some(units[0].id);
            accounts::add_user(&app, role.as_str(), role, PASSWORD, unit)
                .await
                .unwrap();
            let token = accounts::issue_token(&app, role.as_str()).await.unwrap();
            tokens.insert(role, token);
        }
        let mut state = AppState::new(app, "http://test".into());
        if !limited {
            state = state.without_rate_limit();
        }
        let state = Arc::new(state);
        let server = Application::build(state.clone(), "127.0.0.1:0")
            .await
            .unwrap();
        let base = format!("http://{}", server.local_addr());
        tokio::spawn(server.run());
        Self {
            base,
            state,
            store,
            client: client(),
            tokens,
            units,
            open_round: rounds[0],
            published_round: rounds[1],
            closed_round: rounds[2],
            dir,
            pg,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// A unit by name.
    pub fn unit(&self, name: &str) -> UnitId {
        self.units.iter().find(|u| u.name == name).unwrap().id
    }
}

/// The CSRF token of the first form on a page.
pub fn form_token(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .expect("form has a csrf field")
        + 20;
    html[at..at + 32].to_string()
}

/// The text inside the element with `id` (up to its first closing tag).
pub fn text_of(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let from = html[start..].find('>').unwrap() + start + 1;
    let to = html[from..].find("</").unwrap() + from;
    html[from..to].trim().to_string()
}

/// A fresh cookie-keeping client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Two agencies, five units (one retired), a published round with ballots, a closed one
/// and an open one.
async fn district(store: &dyn Storage, settings: &Settings) -> (Vec<Unit>, [RoundId; 3]) {
    let a = store.create_agency("区规划和自然资源局").await.unwrap();
    let b = store.create_agency("区市场监管局").await.unwrap();
    let mk = |agency: AgencyId, name: &'static str| async move {
        store.create_unit(agency, name, "科室").await.unwrap()
    };
    let mut units = vec![
        mk(a.id, "不动产登记中心").await,
        mk(a.id, "规划许可科").await,
        mk(b.id, "企业注册科").await,
        mk(b.id, "食品经营许可科").await,
        mk(b.id, "已撤销的科").await,
    ];
    store.set_unit_active(units[4].id, false).await.unwrap();
    units[4].active = false;
    let person = store.create_person("吴小琴").await.unwrap();
    store
        .assign_post(
            person.id,
            units[0].id,
            minping_domain::PostRole::Head,
            NaiveDate::from_ymd_opt(2019, 1, 1).unwrap(),
        )
        .await
        .unwrap();

    let sys = Actor::system();
    let now = Utc::now();
    let rs = settings.round_settings();
    let published = store
        .create_round(RoundLabel::new(2026, 2).unwrap(), &rs, &sys, now)
        .await
        .unwrap();
    let closed = store
        .create_round(RoundLabel::new(2026, 3).unwrap(), &rs, &sys, now)
        .await
        .unwrap();
    let open = store
        .create_round(RoundLabel::new(2026, 4).unwrap(), &rs, &sys, now)
        .await
        .unwrap();
    for r in [&published, &closed] {
        store
            .transition_round(r.id, RoundState::Draft, RoundState::Open, &sys, now)
            .await
            .unwrap();
    }
    // Published round: 不动产登记中心 named by 3, 企业注册科 by 2 (one ticking 贪), 规划许可科 by 2.
    let ballots = [
        (published.id, vec![(0, 0b00001)]),
        (published.id, vec![(0, 0b00011), (2, 0b10000)]),
        (published.id, vec![(0, 0b00100), (2, 0b00001), (1, 0b00001)]),
        (published.id, vec![(1, 0b00010)]),
        (closed.id, vec![(3, 0b00001)]),
    ];
    let batch: Vec<_> = ballots
        .iter()
        .map(|(round, noms)| {
            let ballot = minping_domain::Ballot {
                channel: minping_domain::Channel::Open,
                code: None,
                nominations: noms
                    .iter()
                    .map(|(u, mask)| minping_domain::Nomination {
                        unit_id: units[*u].id,
                        indicators: minping_domain::IndicatorMask(*mask),
                        comment: None,
                    })
                    .collect(),
                exposure: vec![],
            };
            let receipt = minping_domain::Receipt::generate(&mut rand::thread_rng());
            minping_storage::NewBallot::new(*round, ballot, receipt, now.date_naive(), None)
        })
        .collect();
    store.insert_ballots(&batch).await.unwrap();
    for r in [&published, &closed] {
        store
            .transition_round(r.id, RoundState::Open, RoundState::Closed, &sys, now)
            .await
            .unwrap();
    }
    let method = minping_domain::Method::weighted_nominations(&rs);
    let tallies = store.tallies(published.id, 5).await.unwrap();
    let ranking = minping_domain::ranking::rank(&tallies, &method, &Default::default());
    store
        .finalize_round(
            published.id,
            &minping_storage::FrozenRanking { method, ranking },
            &sys,
            now,
        )
        .await
        .unwrap();
    store
        .transition_round(
            published.id,
            RoundState::Finalized,
            RoundState::Published,
            &sys,
            now,
        )
        .await
        .unwrap();
    store
        .transition_round(open.id, RoundState::Draft, RoundState::Open, &sys, now)
        .await
        .unwrap();
    (units, [open.id, published.id, closed.id])
}

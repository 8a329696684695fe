//! Starts the application on a random port the way production does: its configuration read
//! by `Config::load` from a fresh data folder, over a fresh database — a SQLite file in that
//! folder, or a fresh schema on the PostgreSQL server named by `TEST_DATABASE_URL`.

#![allow(dead_code)]

use minping_app::{App, Config, accounts};
use minping_domain::{AgencyId, Role, RoundId, RoundState, Unit, UnitId};
use minping_storage::{Actor, PgStore, SqliteStore, Storage};
use minping_web::{AppState, Application};
use std::{collections::HashMap, sync::Arc};

/// Runs a test body once per backend: `both!(name, |app| async move { … })` makes
/// `name::sqlite` and `name::postgres` (the latter skipped without `TEST_DATABASE_URL`).
/// Apps run without rate limits, as a load test on loopback would, unless the test says
/// `both!(name, limited, |app| …)`; `both!(name, rules = "…", |app| …)` starts them with
/// that `rules.toml` in the data folder.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        both!($name, false, "", $body);
    };
    ($name:ident, limited, $body:expr) => {
        both!($name, true, "", $body);
    };
    ($name:ident, rules = $rules:literal, $body:expr) => {
        both!($name, false, $rules, $body);
    };
    ($name:ident, $limited:literal, $rules:literal, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let app = support::TestApp::spawn_with(support::Db::Sqlite, $limited, $rules).await;
                ($body)(app).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(url) = std::env::var("TEST_DATABASE_URL").ok() else {
                    eprintln!("TEST_DATABASE_URL is not set: PostgreSQL skipped");
                    return;
                };
                let app =
                    support::TestApp::spawn_with(support::Db::Postgres(url), $limited, $rules)
                        .await;
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
    /// The API token of a second investigator, `investigator2`: a report is substantiated
    /// by someone other than who took it in or opened it.
    pub investigator2: String,
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
        Self::spawn_with(db, limited, "").await
    }

    /// The application over a data folder whose `rules.toml` is `rules` (the documented
    /// defaults when empty).
    pub async fn spawn_with(db: Db, limited: bool, rules: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("code.key"), hex::encode(CODE_KEY)).unwrap();
        if !rules.is_empty() {
            std::fs::write(dir.path().join("rules.toml"), rules).unwrap();
        }
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
        let app = App::new(store.clone(), config);
        let (units, rounds) = district(&app).await;
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let unit = (role == Role::Unit).then_some(units[0].id);
            accounts::add_user(&app, role.as_str(), role, PASSWORD, unit, &Actor::system())
                .await
                .unwrap();
            let token = accounts::issue_token(&app, role.as_str(), &Actor::system())
                .await
                .unwrap()
                .token;
            tokens.insert(role, token);
        }
        accounts::add_user(
            &app,
            "investigator2",
            Role::Investigator,
            PASSWORD,
            None,
            &Actor::system(),
        )
        .await
        .unwrap();
        let investigator2 = accounts::issue_token(&app, "investigator2", &Actor::system())
            .await
            .unwrap()
            .token;
        // Tests speak through a "proxy" on loopback: X-Forwarded-For names the client.
        let mut state = AppState::new(app, "http://test".into())
            .trusting(["127.0.0.1/32".parse().unwrap()])
            .without_background_scan();
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
            investigator2,
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

/// The text of a PDF, laid out (`pdftotext -layout`).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notice.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout".as_ref(), path.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// An API call as `role` (anonymous with `None`), with a JSON body for a POST; the status and
/// the JSON answer (`null` when it is not JSON).
pub async fn api(
    app: &TestApp,
    role: Option<Role>,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(role) = role {
        req = req.bearer_auth(app.token(role));
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// Moves a round to its next state `to`, as the organizer; the status and the answer.
pub async fn transition(
    app: &TestApp,
    round: RoundId,
    to: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    api(
        app,
        Some(Role::Organizer),
        reqwest::Method::POST,
        &format!("/api/v1/rounds/{round}/transition"),
        Some(serde_json::json!({ "to": to })),
    )
    .await
}

/// Resolves the round's first listed conflict as the organizer (counting it or not, with a
/// reason); the status and the answer.
pub async fn resolve_first_conflict(
    app: &TestApp,
    round: RoundId,
    count: bool,
    reason: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    let (_, conflicts) = api(
        app,
        Some(Role::Organizer),
        reqwest::Method::GET,
        &format!("/api/v1/rounds/{round}/conflicts"),
        None,
    )
    .await;
    let id = conflicts[0]["id"].as_i64().expect("a conflict");
    api(
        app,
        Some(Role::Organizer),
        reqwest::Method::POST,
        &format!("/api/v1/conflicts/{id}/resolve"),
        Some(serde_json::json!({ "count": count, "reason": reason })),
    )
    .await
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
/// and an open one: made through the workflows, as a district would.
async fn district(app: &App) -> (Vec<Unit>, [RoundId; 3]) {
    use minping_app::{intake, org, rounds};
    use minping_domain::{BallotDraft, NominationDraft};
    let a = org::create_agency(app, "区规划和自然资源局", &Actor::system())
        .await
        .unwrap();
    let b = org::create_agency(app, "区市场监管局", &Actor::system())
        .await
        .unwrap();
    let mk = |agency: AgencyId, name: &'static str| async move {
        org::create_unit(app, agency, name, None, &Actor::system())
            .await
            .unwrap()
    };
    let mut units = vec![
        mk(a.id, "不动产登记中心").await,
        mk(a.id, "规划许可科").await,
        mk(b.id, "企业注册科").await,
        mk(b.id, "食品经营许可科").await,
        mk(b.id, "已撤销的科").await,
    ];
    org::set_unit_active(app, units[4].id, false, &Actor::system())
        .await
        .unwrap();
    units = app.store().units().await.unwrap();
    units.sort_by_key(|u| u.id);
    // 食品经营许可科, the closed round's one named unit, has a head and a supervising leader
    // recorded before that round closed (a round's sanctions fall on the posts recorded
    // when it closed).
    for (name, role) in [("赵科长", "head"), ("钱副局长", "supervising_leader")] {
        let p = org::create_person(app, name, &Actor::system())
            .await
            .unwrap();
        org::assign_post(app, p.id, units[3].id, role, "2020-01-01", &Actor::system())
            .await
            .unwrap();
    }
    let person = org::create_person(app, "吴小琴", &Actor::system())
        .await
        .unwrap();
    org::assign_post(
        app,
        person.id,
        units[0].id,
        "head",
        "2019-01-01",
        &Actor::system(),
    )
    .await
    .unwrap();

    let sys = Actor::system();
    let create = |label: &'static str| {
        let sys = sys.clone();
        async move { rounds::create(app, label, &sys).await.unwrap() }
    };
    let step = |id: RoundId, to: RoundState| {
        let sys = sys.clone();
        async move {
            rounds::advance(app, id, to, &sys).await.unwrap();
        }
    };
    let ballot = |noms: &[(usize, &[&str])]| BallotDraft {
        channel: "open".into(),
        nominations: noms
            .iter()
            .map(|(u, indicators)| NominationDraft {
                unit_id: units[*u].id.0,
                indicators: indicators.iter().map(|i| i.to_string()).collect(),
                comment: None,
            })
            .collect(),
        ..BallotDraft::default()
    };
    let published = create("2026Q2").await;
    let closed = create("2026Q3").await;
    let open = create("2026Q4").await;
    // Published round: 不动产登记中心 named by 3, 企业注册科 by 2 (one ticking 贪), 规划许可科 by 2.
    step(published.id, RoundState::Open).await;
    for noms in [
        &[(0, &["cold"][..])][..],
        &[(0, &["cold", "lazy"][..]), (2, &["greedy"][..])],
        &[
            (0, &["shirking"][..]),
            (2, &["cold"][..]),
            (1, &["cold"][..]),
        ],
        &[(1, &["lazy"][..])],
    ] {
        intake::submit(app, published.id, ballot(noms), &Default::default())
            .await
            .unwrap();
    }
    step(published.id, RoundState::Closed).await;
    step(closed.id, RoundState::Open).await;
    intake::submit(
        app,
        closed.id,
        ballot(&[(3, &["cold"][..])]),
        &Default::default(),
    )
    .await
    .unwrap();
    step(closed.id, RoundState::Closed).await;
    step(published.id, RoundState::Finalized).await;
    step(published.id, RoundState::Published).await;
    step(open.id, RoundState::Open).await;
    (units, [open.id, published.id, closed.id])
}

/// A page's status and body.
pub async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form taken from `page`, with its CSRF token; returns status, location and body.
pub async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let token = form_token(page);
    let mut all = vec![("_csrf", token.as_str())];
    all.extend_from_slice(fields);
    let r = client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&all).unwrap())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// A browser signed in as the test user of `role`.
pub async fn signed_in(app: &TestApp, role: Role) -> reqwest::Client {
    signed_in_as(app, role.as_str()).await
}

/// A browser signed in to the test account `name`.
pub async fn signed_in_as(app: &TestApp, name: &str) -> reqwest::Client {
    let c = client();
    let (_, login) = get(&c, app, "/login").await;
    let (status, _, _) = post(
        &c,
        app,
        &login,
        "/login",
        &[("name", name), ("password", PASSWORD), ("next", "/console")],
    )
    .await;
    assert_eq!(status, 303, "{name} signs in");
    c
}

/// The test's database as a reader (or an insider with its password) reaches it: SQLite's
/// file, or the test's schema on PostgreSQL.
pub enum Direct {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A connection straight to the test's database, around the application.
pub async fn direct(app: &TestApp) -> Direct {
    match &app.pg {
        None => Direct::Sqlite(
            sqlx::SqlitePool::connect(&format!(
                "sqlite://{}",
                app.dir.path().join("minping.db").display()
            ))
            .await
            .unwrap(),
        ),
        Some((url, schema)) => Direct::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .after_connect({
                    let schema = schema.clone();
                    move |conn, _| {
                        let schema = schema.clone();
                        Box::pin(async move {
                            sqlx::Executor::execute(
                                conn,
                                sqlx::AssertSqlSafe(format!("SET search_path TO \"{schema}\"")),
                            )
                            .await
                            .map(|_| ())
                        })
                    }
                })
                .connect(url)
                .await
                .unwrap(),
        ),
    }
}

/// Runs one query straight on the test's database, as a reader of it would.
pub async fn raw<T>(app: &TestApp, sql: &str) -> Vec<T>
where
    T: Send + Unpin,
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let q = || sqlx::AssertSqlSafe(sql.to_string());
    match direct(app).await {
        Direct::Sqlite(pool) => sqlx::query_as(q()).fetch_all(&pool).await,
        Direct::Postgres(pool) => sqlx::query_as(q()).fetch_all(&pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs statements straight on the test's database (one transaction), as an insider with
/// its password could.
pub async fn tamper(app: &TestApp, statements: &[&str]) {
    match direct(app).await {
        Direct::Sqlite(pool) => {
            let mut tx = pool.begin().await.unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                    .execute(&mut *tx)
                    .await
                    .unwrap_or_else(|e| panic!("{s}: {e}"));
            }
            tx.commit().await.unwrap();
        }
        Direct::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.to_string()))
                    .execute(&mut *tx)
                    .await
                    .unwrap_or_else(|e| panic!("{s}: {e}"));
            }
            tx.commit().await.unwrap();
        }
    }
}

/// What a console page says of the last action, after following the redirect to it as a
/// browser does (the flash travels in a signed cookie, never in the address): `Ok(done)` or
/// `Err(error)`; `None` when the page shows neither.
pub async fn flash(
    client: &reqwest::Client,
    app: &TestApp,
    location: &str,
) -> Option<Result<String, String>> {
    flash_as(client, app, location, None).await
}

/// [`flash`] for a console reached with an API token instead of a session.
pub async fn flash_as(
    client: &reqwest::Client,
    app: &TestApp,
    location: &str,
    bearer: Option<&str>,
) -> Option<Result<String, String>> {
    assert!(
        !location.contains("done=") && !location.contains("error="),
        "the outcome must not travel in the address: {location}"
    );
    let mut req = client.get(app.url(location));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let page = req.send().await.unwrap().text().await.unwrap();
    let inner = |marker: &str| {
        page.find(marker).map(|at| {
            let from = at + marker.len();
            let to = page[from..].find("</p>").unwrap() + from;
            page[from..to]
                .trim()
                .trim_start_matches('✓')
                .trim()
                .to_string()
        })
    };
    match (
        inner(r#"<p class="error" role="alert">"#),
        inner(r#"<p class="done" role="status">"#),
    ) {
        (Some(e), _) => Some(Err(e)),
        (None, Some(d)) => Some(Ok(d)),
        (None, None) => None,
    }
}

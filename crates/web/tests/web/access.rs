//! Who may use which route: every role (and nobody) against every route, API and pages.
//! The API list must match the OpenAPI document and the page list is the router's own
//! table, so a new route cannot be added without being checked here.

use crate::support;

use minping_domain::Role;
use minping_web::pages::{Access, routes};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use support::TestApp;

/// Who an API route is for.
#[derive(Clone, Copy, Debug)]
enum Who {
    Public,
    Signed,
    Roles(&'static [Role]),
}

const ORGANIZER: Who = Who::Roles(&[Role::Organizer]);
const ORGANIZER_OR_LEADER: Who = Who::Roles(&[Role::Organizer, Role::Leader]);

const API: &[(&str, &str, Who)] = &[
    ("GET", "/healthz", Who::Public),
    ("GET", "/api/v1/me", Who::Signed),
    ("GET", "/api/v1/units", Who::Public),
    ("POST", "/api/v1/units", ORGANIZER),
    ("POST", "/api/v1/units/{id}/active", ORGANIZER),
    ("GET", "/api/v1/agencies", Who::Public),
    ("POST", "/api/v1/agencies", ORGANIZER),
    ("GET", "/api/v1/people", ORGANIZER_OR_LEADER),
    ("POST", "/api/v1/people", ORGANIZER),
    ("GET", "/api/v1/posts", ORGANIZER_OR_LEADER),
    ("POST", "/api/v1/posts", ORGANIZER),
    ("GET", "/api/v1/rounds", Who::Public),
    ("POST", "/api/v1/rounds", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}", Who::Public),
    ("POST", "/api/v1/rounds/{id}/transition", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/transitions", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/preview", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/results", Who::Public),
    ("GET", "/api/v1/rounds/{id}/receipts", Who::Public),
    ("POST", "/api/v1/rounds/{id}/ballots", Who::Public),
    ("GET", "/api/v1/receipts/{receipt}", Who::Public),
    ("POST", "/api/v1/rounds/{id}/integrity/scan", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/quarantine", ORGANIZER),
    ("POST", "/api/v1/rounds/{id}/quarantine/release", ORGANIZER),
    ("POST", "/api/v1/rounds/{id}/quarantine/keep", ORGANIZER),
    ("POST", "/api/v1/reports", Who::Public),
    ("GET", "/api/v1/rounds/{id}/sanctions", ORGANIZER_OR_LEADER),
    ("POST", "/api/v1/sanctions/{id}/decision", ORGANIZER),
    ("GET", "/api/v1/people/{id}/promotion", ORGANIZER_OR_LEADER),
    ("GET", "/api/v1/promotion/frozen", ORGANIZER_OR_LEADER),
    ("GET", "/api/v1/statistics", Who::Public),
    ("GET", "/api/v1/rounds/{id}/notice.pdf", ORGANIZER_OR_LEADER),
    (
        "GET",
        "/api/v1/reports",
        Who::Roles(&[Role::Investigator, Role::Organizer]),
    ),
    (
        "POST",
        "/api/v1/reports/intake",
        Who::Roles(&[Role::Investigator, Role::Organizer]),
    ),
    ("GET", "/api/v1/reports/{tracking_code}", Who::Public),
    (
        "POST",
        "/api/v1/reports/{id}/transition",
        Who::Roles(&[Role::Investigator]),
    ),
    ("GET", "/api/v1/rounds/{id}/panel/frame", Who::Public),
    ("POST", "/api/v1/rounds/{id}/panel/frame", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/panel/draw", Who::Public),
    ("POST", "/api/v1/rounds/{id}/panel/draw", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/panel/verify", Who::Public),
    ("GET", "/api/v1/rounds/{id}/panel/response", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/panel/nonrespondents", ORGANIZER),
    ("POST", "/api/v1/rounds/{id}/panel/mail-status", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/conflicts", ORGANIZER),
    ("POST", "/api/v1/conflicts/{id}/resolve", ORGANIZER),
    (
        "POST",
        "/api/v1/rounds/{id}/paper-entries",
        Who::Roles(&[Role::Clerk, Role::Organizer]),
    ),
    ("GET", "/api/v1/rounds/{id}/adjudication", ORGANIZER),
    ("POST", "/api/v1/rounds/{id}/adjudication", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/panel/mailing.csv", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/panel/forms.pdf", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/open-form.pdf", ORGANIZER),
    (
        "GET",
        "/api/v1/reports/{id}/evidence",
        Who::Roles(&[Role::Investigator, Role::Organizer]),
    ),
    (
        "GET",
        "/api/v1/reports/{id}/evidence/{evidence_id}",
        Who::Roles(&[Role::Investigator, Role::Organizer]),
    ),
    ("POST", "/api/v1/people/{id}/promotion-checks", ORGANIZER),
    ("GET", "/api/v1/promotion/checks", ORGANIZER_OR_LEADER),
    ("GET", "/api/v1/panel/members", ORGANIZER),
    ("POST", "/api/v1/panel/members", ORGANIZER),
    ("POST", "/api/v1/panel/members/{id}/deactivate", ORGANIZER),
    ("GET", "/api/v1/rounds/{id}/reprints", ORGANIZER),
    ("POST", "/api/v1/rounds/{id}/reprints", ORGANIZER),
    ("POST", "/api/v1/reprints/{id}/decision", ORGANIZER),
    ("GET", "/api/v1/audit", ORGANIZER_OR_LEADER),
];

fn principals() -> Vec<Option<Role>> {
    std::iter::once(None)
        .chain(Role::ALL.into_iter().map(Some))
        .collect()
}

async fn fill(app: &TestApp, path: &str) -> String {
    let receipt = {
        let stored = app.store.rounds().await.unwrap();
        assert!(!stored.is_empty());
        // Any stored ballot's receipt will do: the closed round has one.
        receipt_of(app).await
    };
    let id = if path.starts_with("/api/v1/units/") || path.starts_with("/console/units/") {
        app.units[1].id.0
    } else if path.ends_with("/ballot") || path.ends_with("/ballots") {
        app.open_round.0
    } else if path.ends_with("/results") || path.ends_with("/receipts") {
        app.published_round.0
    } else {
        app.closed_round.0
    };
    path.replace("{id}", &id.to_string())
        .replace("{receipt}", &receipt)
        .replace("{file}", "style.css")
        .replace("{tracking_code}", "ABCD-EFGH-JK")
        .replace("{evidence_id}", "1")
}

async fn receipt_of(app: &TestApp) -> String {
    let body = serde_json::json!({"channel": "open", "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]});
    let r: Value = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{}/ballots", app.open_round)))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["receipt"].as_str().unwrap().to_string()
}

both!(
    every_api_route_admits_exactly_its_roles,
    |app: TestApp| async move {
        let doc: Value = app
            .client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (m.to_uppercase(), path.clone()))
            })
            .collect();
        let tested: BTreeSet<(String, String)> = API
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(documented, tested, "every API route must be in this matrix");

        for (method, path, who) in API {
            let url = app.url(&fill(&app, path).await);
            for principal in principals() {
                let mut req = app
                    .client
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
                if let Some(role) = principal {
                    req = req.bearer_auth(app.token(role));
                }
                if *method == "POST" {
                    req = req.json(&serde_json::json!({}));
                }
                let r = req.send().await.unwrap();
                let status = r.status();
                let allowed = match (who, principal) {
                    (Who::Public, _) => true,
                    (Who::Signed, p) => p.is_some(),
                    (Who::Roles(roles), Some(role)) => roles.contains(&role),
                    (Who::Roles(_), None) => false,
                };
                let context = format!("{method} {path} as {principal:?} → {status}");
                if allowed {
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{context}"
                    );
                    assert!(!status.is_server_error(), "{context}");
                } else {
                    let expected = if principal.is_none() { 401 } else { 403 };
                    assert_eq!(status.as_u16(), expected, "{context}");
                    let body: Value = r.json().await.unwrap();
                    assert!(body["error"]["code"].is_string(), "{context}");
                }
            }
        }
    }
);

both!(
    a_bad_api_token_is_refused_even_on_public_routes,
    |app: TestApp| async move {
        let r = app
            .client
            .get(app.url("/api/v1/units"))
            .bearer_auth("mp_forged")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
);

/// A visitor's CSRF cookie (checked to be `SameSite=Strict` and `HttpOnly`) and the form
/// token that goes with it while no one is signed in.
async fn csrf_token(app: &TestApp) -> (String, String) {
    let r = reqwest::Client::new()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("minping_csrf="))
        .expect("a csrf cookie is set")
        .to_string();
    assert!(
        cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let nonce = cookie
        .trim_start_matches("minping_csrf=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = r.text().await.unwrap();
    let token = support::form_token(&page);
    assert_ne!(token, nonce, "the form token is not the cookie");
    (nonce, token)
}

both!(
    every_page_admits_exactly_its_roles_and_every_form_needs_its_csrf_token,
    |app: TestApp| async move {
        let (nonce, token) = csrf_token(&app).await;
        let client = support::client();
        for (path, method, access, _) in routes() {
            let url = app.url(&fill(&app, path).await);
            for principal in principals() {
                for with_csrf in [true, false] {
                    if method == "GET" && !with_csrf {
                        continue;
                    }
                    let mut req =
                        client.request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
                    if let Some(role) = principal {
                        req = req.bearer_auth(app.token(role));
                    }
                    if method == "POST" {
                        req = req
                            .header("cookie", format!("minping_csrf={nonce}"))
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body(if with_csrf {
                                format!("_csrf={token}")
                            } else {
                                String::new()
                            });
                    }
                    let r = req.send().await.unwrap();
                    let status = r.status();
                    let location = r
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let allowed = match (access, principal) {
                        (Access::Public, _) => true,
                        (Access::Roles(roles), Some(role)) => roles.contains(&role),
                        (Access::Roles(_), None) => false,
                    };
                    let context = format!(
                        "{method} {path} as {principal:?} csrf={with_csrf} → {status} {location}"
                    );
                    assert!(!status.is_server_error(), "{context}");
                    match (allowed, principal) {
                        (true, _) if method == "POST" && !with_csrf => {
                            assert_eq!(status, 403, "{context}")
                        }
                        (true, _) => {
                            assert!(
                                status != 401 && status != 403 && !location.starts_with("/login"),
                                "{context}"
                            );
                            let html = r
                                .headers()
                                .get("content-type")
                                .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
                            if status == 200 && html {
                                let page = r.text().await.unwrap();
                                let title = page
                                    .split_once("<title>")
                                    .and_then(|(_, rest)| rest.split_once("</title>"))
                                    .map(|(title, _)| title)
                                    .unwrap_or_else(|| panic!("{context}: no <title>"));
                                assert!(!title.contains('<'), "{context}: title {title}");
                            }
                        }
                        (false, None) => {
                            assert_eq!(status, 303, "{context}");
                            assert!(location.starts_with("/login?next="), "{context}");
                        }
                        (false, Some(_)) => assert_eq!(status, 403, "{context}"),
                    }
                }
            }
        }
    }
);

both!(
    a_flood_of_submissions_from_one_address_is_slowed_down,
    limited,
    |app: TestApp| async move {
        let body = serde_json::json!({"channel": "open", "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]});
        let url = app.url(&format!("/api/v1/rounds/{}/ballots", app.open_round));
        let mut refused = None;
        for _ in 0..200 {
            let r = app.client.post(&url).json(&body).send().await.unwrap();
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                assert!(r.headers().contains_key("retry-after"));
                refused = Some(r.json::<Value>().await.unwrap());
                break;
            }
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        let refused = refused.expect("the limit is reached within 200 quick submissions");
        assert_eq!(refused["error"]["code"], "rate_limited");
        // Reading is never limited.
        assert_eq!(
            app.client
                .get(app.url("/api/v1/units"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
);

both!(
    repeated_sign_in_attempts_are_slowed_down,
    limited,
    |app: TestApp| async move {
        let (nonce, token) = csrf_token(&app).await;
        let mut statuses = Vec::new();
        // A name per attempt: the address is limited, whatever the account (each account's
        // own backoff is tested apart).
        for i in 0..12 {
            let r = reqwest::Client::new()
                .post(app.url("/login"))
                .header("cookie", format!("minping_csrf={nonce}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("_csrf={token}&name=guess{i}&password=guess"))
                .send()
                .await
                .unwrap();
            statuses.push(r.status().as_u16());
        }
        assert_eq!(&statuses[..10], &[401; 10]);
        assert_eq!(statuses[11], 429);
    }
);

/// A browser per principal: signed in (a session cookie) for each role, anonymous for
/// `None`; with the form token its pages print.
async fn browsers(app: &TestApp) -> Vec<(Option<Role>, reqwest::Client, String)> {
    let mut out = Vec::new();
    for principal in principals() {
        let (browser, page) = match principal {
            Some(role) => {
                let c = support::signed_in(app, role).await;
                let (_, page) = support::get(&c, app, "/").await;
                (c, page)
            }
            None => {
                let c = support::client();
                let (_, page) = support::get(&c, app, "/login").await;
                (c, page)
            }
        };
        let token = support::form_token(&page);
        out.push((principal, browser, token));
    }
    out
}

both!(
    with_session_cookies_every_route_admits_exactly_its_roles_too,
    |app: TestApp| async move {
        let browsers = browsers(&app).await;
        // The API, signed in by a session instead of a token.
        for (method, path, who) in API {
            let url = app.url(&fill(&app, path).await);
            for (principal, browser, _) in &browsers {
                let mut req = browser.request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
                if *method == "POST" {
                    req = req.json(&serde_json::json!({}));
                }
                let status = req.send().await.unwrap().status();
                let allowed = match (who, principal) {
                    (Who::Public, _) => true,
                    (Who::Signed, p) => p.is_some(),
                    (Who::Roles(roles), Some(role)) => roles.contains(role),
                    (Who::Roles(_), None) => false,
                };
                let context = format!("{method} {path} as {principal:?} (session) → {status}");
                assert!(!status.is_server_error(), "{context}");
                if allowed {
                    assert!(status != 401 && status != 403, "{context}");
                } else {
                    let expected = if principal.is_none() { 401 } else { 403 };
                    assert_eq!(status.as_u16(), expected, "{context}");
                }
            }
        }
        // The pages, with each form's token (signing out last would end the sessions).
        for (path, method, access, _) in routes() {
            if path == "/logout" {
                continue;
            }
            let url = app.url(&fill(&app, path).await);
            for (principal, browser, token) in &browsers {
                let mut req = browser.request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
                if method == "POST" {
                    req = req
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(format!("_csrf={token}"));
                }
                let r = req.send().await.unwrap();
                let status = r.status();
                let location = r
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let allowed = match (access, principal) {
                    (Access::Public, _) => true,
                    (Access::Roles(roles), Some(role)) => roles.contains(role),
                    (Access::Roles(_), None) => false,
                };
                let context =
                    format!("{method} {path} as {principal:?} (session) → {status} {location}");
                assert!(!status.is_server_error(), "{context}");
                match (allowed, principal) {
                    (true, _) => assert!(
                        status != 401 && status != 403 && !location.starts_with("/login"),
                        "{context}"
                    ),
                    (false, None) => {
                        assert_eq!(status, 303, "{context}");
                        assert!(location.starts_with("/login?next="), "{context}");
                    }
                    (false, Some(_)) => assert_eq!(status, 403, "{context}"),
                }
            }
        }
    }
);

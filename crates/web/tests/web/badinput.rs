//! A catalogue of bad input, as a hostile client sends it: malformed and mistyped bodies to
//! every route that takes one, unknown and unparsable ids, markup and SQL metacharacters in
//! every free-text field. Each is answered with a clear error (or stored as plain text),
//! never a server error, and nothing is half-stored.

use crate::support;

use minping_domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, api, get, post};

/// Every API operation the document lists, as (method, path template).
async fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            out.push((method.to_uppercase(), path.clone()));
        }
    }
    out
}

/// A path with its ids filled by `id` (a number, or text that is none).
fn filled(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{evidence_id}", id)
        .replace("{receipt}", id)
        .replace("{tracking_code}", id)
}

/// The organizer's token, or the investigator's for the routes only investigators use.
fn who(path: &str) -> Role {
    if path.contains("/transition") && path.starts_with("/api/v1/reports") {
        Role::Investigator
    } else {
        Role::Organizer
    }
}

both!(
    malformed_and_mistyped_bodies_get_a_clear_error_on_every_route,
    |app: TestApp| async move {
        let before = app.store.agencies().await.unwrap().len();
        let long = "长".repeat(100_000);
        let bodies: Vec<(&str, String)> = vec![
            ("application/json", "{".into()),
            ("application/json", "[]".into()),
            ("application/json", "null".into()),
            (
                "application/json",
                json!({"name": [1, 2], "unit_id": "x", "to": {}}).to_string(),
            ),
            (
                "application/json",
                json!({"name": long, "reason": long, "description": long}).to_string(),
            ),
            ("text/plain", "name=区民政局".into()),
        ];
        for (method, path) in operations(&app).await {
            if method != "POST" {
                continue;
            }
            let url = app.url(&filled(&path, &app.closed_round.0.to_string()));
            for (content_type, body) in &bodies {
                let r = app
                    .client
                    .post(&url)
                    .bearer_auth(app.token(who(&path)))
                    .header("content-type", *content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let context = format!("POST {path} {content_type} {:.40}: {status}", body);
                assert!(
                    status.is_client_error()
                        || status.is_success() && path.contains("scan")
                        || status.is_success()
                            && body.starts_with('{')
                            && path.ends_with("ballots"),
                    "{context}"
                );
                if status.is_client_error() {
                    let answer: Value = r.json().await.unwrap_or_default();
                    assert!(answer["error"]["code"].is_string(), "{context}: {answer}");
                }
            }
        }
        assert_eq!(
            app.store.agencies().await.unwrap().len(),
            before,
            "nothing stored"
        );
    }
);

both!(
    unknown_and_unparsable_ids_are_not_found_never_a_server_error,
    |app: TestApp| async move {
        let mut wrong = Vec::new();
        for (method, path) in operations(&app).await {
            if !path.contains('{') {
                continue;
            }
            for id in ["999999", "-1", "abc", "1e9", "%00", "99999999999999999999"] {
                let url = app.url(&filled(&path, id));
                let mut req = app
                    .client
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                    .bearer_auth(app.token(who(&path)));
                if method == "POST" {
                    req = req.json(&json!({}));
                }
                let status = req.send().await.unwrap().status();
                if !status.is_client_error() {
                    wrong.push(format!("{method} {path} with {id}: {status}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        // Pages too.
        let organizer = support::signed_in(&app, Role::Organizer).await;
        for path in [
            "/rounds/999999/results",
            "/rounds/abc/results",
            "/console/rounds/999999",
            "/console/rounds/abc/panel",
            "/console/reports/999999",
            "/console/rounds/999999/sanctions",
            "/receipts/%00",
        ] {
            let (status, _) = get(&organizer, &app, path).await;
            assert!((400..500).contains(&status), "{path}: {status}");
        }
    }
);

/// Text that would run if a page printed it as markup, and close quotes around it.
const MARKUP: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><b>";

both!(
    markup_and_sql_in_every_free_text_field_is_kept_and_shown_as_text,
    |app: TestApp| async move {
        let sql = "x'); DROP TABLE units;-- %_\\";
        let name = format!("{MARKUP}{sql}");
        // Names of agencies, units and people.
        let (s, agency) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/agencies",
            Some(json!({ "name": name.chars().take(100).collect::<String>() })),
        )
        .await;
        assert_eq!(s, 201, "{agency}");
        let stored_name = agency["name"].as_str().unwrap().to_string();
        let (s, unit) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/units",
            Some(json!({ "agency_id": agency["id"], "name": stored_name })),
        )
        .await;
        assert_eq!(s, 201, "{unit}");
        let (s, _) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/people",
            Some(json!({ "name": stored_name })),
        )
        .await;
        assert_eq!(s, 201);
        // Stored as sent: the metacharacters did nothing.
        let agencies = app.store.agencies().await.unwrap();
        assert!(agencies.iter().any(|a| a.name == stored_name));
        assert!(
            app.store.units().await.unwrap().len() > 5,
            "no table dropped"
        );
        // A report and a ballot comment.
        let description = format!("窗口人员吃拿卡要{MARKUP}{sql}");
        let (s, _) = api(
            &app,
            None,
            Method::POST,
            "/api/v1/reports",
            Some(
                json!({"unit_id": app.units[0].id.0, "description": description, "staff": MARKUP}),
            ),
        )
        .await;
        assert_eq!(s, 201);
        let (s, _) = api(
            &app,
            None,
            Method::POST,
            &format!("/api/v1/rounds/{}/ballots", app.open_round),
            Some(json!({"channel": "open", "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["cold"], "comment": format!("{MARKUP}{sql}")}]})),
        )
        .await;
        assert_eq!(s, 201);

        // Every page that shows them shows text.
        let organizer = support::signed_in(&app, Role::Organizer).await;
        let investigator = support::signed_in(&app, Role::Investigator).await;
        let report = app.store.reports(None).await.unwrap()[0].id;
        for (client, path) in [
            (&organizer, "/console/units".to_string()),
            (&organizer, "/console/people".to_string()),
            (&organizer, "/console/audit".to_string()),
            (&investigator, "/console/reports".to_string()),
            (&investigator, format!("/console/reports/{report}")),
            (&app.client, "/reports/new".to_string()),
            (&app.client, format!("/rounds/{}/ballot", app.open_round)),
        ] {
            let (status, page) = get(client, &app, &path).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                !page.contains("<script>alert") && !page.contains("<img src=x"),
                "{path} prints markup it was sent"
            );
        }
        let (_, units) = get(&organizer, &app, "/console/units").await;
        let at = units.find("alert(1)").expect("the name is shown");
        assert!(
            units[at.saturating_sub(20)..at].contains("&lt;script&gt;")
                || units[at.saturating_sub(20)..at].contains("&#60;script&#62;"),
            "shown, escaped: {}",
            &units[at.saturating_sub(40)..at + 40]
        );

        // A form field with markup comes back escaped when refused.
        let (_, page) = get(&organizer, &app, "/console/units").await;
        let (status, location, _) = post(
            &organizer,
            &app,
            &page,
            "/console/agencies",
            &[("name", &stored_name)],
        )
        .await;
        assert_eq!(status, 303);
        let shown = support::flash(&organizer, &app, &location).await;
        assert!(matches!(shown, Some(Err(_))), "a duplicate name: {shown:?}");
        let (_, after) = get(&organizer, &app, "/console/units").await;
        assert!(!after.contains("<script>alert"));
    }
);

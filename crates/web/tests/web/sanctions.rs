//! The accountability ladder through the API: finalizing proposes sanctions, the organizer
//! confirms them, and the promotion calendar answers — on SQLite and PostgreSQL.

use crate::support;

use chrono::Days;
use minping_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::TestApp;

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    role: Option<Role>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(r) = role {
        req = req.bearer_auth(app.token(r));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn step(app: &TestApp, round: i64, to: &str) {
    let (s, r) = send(
        app,
        Method::POST,
        &format!("/api/v1/rounds/{round}/transition"),
        Some(Role::Organizer),
        Some(json!({"to": to})),
    )
    .await;
    assert_eq!(s, 200, "{to}: {r}");
}

both!(
    two_rounds_in_the_top_three_propose_removing_the_head_and_a_confirmed_freeze_blocks_promotion,
    |app: TestApp| async move {
        // 食品经营许可科 is the only unit named in the closed round (2026Q3) and is named again in 2026Q4.
        let unit = app.unit("食品经营许可科").0;
        // Its head and supervising leader, recorded before the closed round closed.
        let people = app.store.people().await.unwrap();
        let id = |name: &str| people.iter().find(|p| p.name == name).unwrap().id.0;
        let (head, leader) = (id("赵科长"), id("钱副局长"));
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        let (s, first) = send(
            &app,
            Method::GET,
            &format!("/api/v1/rounds/{q3}/sanctions"),
            Some(Role::Leader),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let kinds = |list: &Value, who: i64| -> Vec<String> {
            let mut k: Vec<String> = list
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["person_id"] == who)
                .map(|s| s["kind"].as_str().unwrap().to_string())
                .collect();
            k.sort();
            k
        };
        assert_eq!(
            kinds(&first, head),
            ["assessment_deduction", "interview", "promotion_freeze"]
        );
        assert_eq!(
            kinds(&first, leader),
            ["assessment_deduction", "reminder_talk"]
        );
        assert!(
            first
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["state"] == "proposed" && s["rule"].is_string())
        );
        step(&app, q3, "published").await;

        let body =
            json!({"channel": "open", "nominations": [{"unit_id": unit, "indicators": ["lazy"]}]});
        let (s, _) = send(
            &app,
            Method::POST,
            &format!("/api/v1/rounds/{}/ballots", app.open_round),
            None,
            Some(body),
        )
        .await;
        assert_eq!(s, 201);
        let q4 = app.open_round.0;
        step(&app, q4, "closed").await;
        step(&app, q4, "finalized").await;
        let (_, second) = send(
            &app,
            Method::GET,
            &format!("/api/v1/rounds/{q4}/sanctions"),
            Some(Role::Organizer),
            None,
        )
        .await;
        let removal = second
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "head_removed")
            .expect("the head's removal is proposed");
        assert_eq!(removal["person_id"], head);
        assert_eq!(removal["rounds"], json!(["2026Q3", "2026Q4"]));
        assert!(
            !second
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "leader_removed"),
            "two rounds do not remove the leader"
        );

        // The organizer confirms the freeze; the calendar then refuses promotion until it ends.
        let freeze = second
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "promotion_freeze" && s["person_id"] == head)
            .unwrap();
        let until: chrono::NaiveDate = freeze["until"].as_str().unwrap().parse().unwrap();
        let today = app.state.today();
        let (s, answer) = send(
            &app,
            Method::GET,
            &format!("/api/v1/people/{head}/promotion?on={today}"),
            Some(Role::Leader),
            None,
        )
        .await;
        assert_eq!(
            (s.as_u16(), answer["eligible"].as_bool()),
            (200, Some(true)),
            "a proposed freeze does not bind yet"
        );
        let id = freeze["id"].as_i64().unwrap();
        // A confirmation names the decision it rests on.
        let (s, refused) = send(
            &app,
            Method::POST,
            &format!("/api/v1/sanctions/{id}/decision"),
            Some(Role::Organizer),
            Some(json!({"confirm": true, "reason": "按规则确认"})),
        )
        .await;
        assert_eq!(
            (s.as_u16(), refused["error"]["field"].as_str()),
            (422, Some("decision_ref")),
            "{refused}"
        );
        let (s, decided) = send(
            &app,
            Method::POST,
            &format!("/api/v1/sanctions/{id}/decision"),
            Some(Role::Organizer),
            Some(json!({
                "confirm": true,
                "reason": "按规则确认",
                "decision_ref": "区委常委会会议纪要〔2026〕12号",
            })),
        )
        .await;
        assert_eq!(
            (
                s.as_u16(),
                decided["state"].as_str(),
                decided["decided_by"].as_str(),
                decided["decision_ref"].as_str(),
            ),
            (
                200,
                Some("confirmed"),
                Some("organizer"),
                Some("区委常委会会议纪要〔2026〕12号")
            )
        );
        let (s, _) = send(
            &app,
            Method::POST,
            &format!("/api/v1/sanctions/{id}/decision"),
            Some(Role::Organizer),
            Some(json!({"confirm": false, "reason": "x"})),
        )
        .await;
        assert_eq!(s, 409, "a decision is final");
        let (_, answer) = send(
            &app,
            Method::GET,
            &format!("/api/v1/people/{head}/promotion?on={today}"),
            Some(Role::Organizer),
            None,
        )
        .await;
        assert_eq!(answer["eligible"], false, "{answer}");
        assert_eq!(answer["reasons"][0]["until"], json!(until.to_string()));
        let after = until.checked_add_days(Days::new(1)).unwrap();
        let (_, answer) = send(
            &app,
            Method::GET,
            &format!("/api/v1/people/{head}/promotion?on={after}"),
            Some(Role::Organizer),
            None,
        )
        .await;
        assert_eq!(
            answer["eligible"], true,
            "allowed the day after the freeze ends"
        );
        let (s, _) = send(
            &app,
            Method::GET,
            &format!("/api/v1/people/{head}/promotion?on=not-a-date"),
            Some(Role::Organizer),
            None,
        )
        .await;
        assert_eq!(s, 400);
        let (s, _) = send(
            &app,
            Method::GET,
            "/api/v1/people/999999/promotion",
            Some(Role::Organizer),
            None,
        )
        .await;
        assert_eq!(s, 404);
        let (s, _) = send(
            &app,
            Method::GET,
            &format!("/api/v1/rounds/{q4}/sanctions"),
            Some(Role::Unit),
            None,
        )
        .await;
        assert_eq!(s, 403);
    }
);

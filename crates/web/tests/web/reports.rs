//! Reports (举报): public intake and tracking, the investigators' workflow, who may see
//! what, and the override that puts a unit with a substantiated report at rank 1.

use crate::support;

use minping_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestApp;

async fn send(
    app: &TestApp,
    method: reqwest::Method,
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

use reqwest::Method;

both!(
    a_citizen_reports_anonymously_and_follows_the_status_without_internal_notes,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0;
        let (s, r) = send(
            &app,
            Method::POST,
            "/api/v1/reports",
            None,
            Some(json!({
                "unit_id": unit,
                "description": "办理营业执照时，窗口人员暗示要请吃饭才能尽快办理。",
                "staff": "窗口工作人员",
            })),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        let code = r["tracking_code"].as_str().unwrap().to_string();
        let (s, status) = send(
            &app,
            Method::GET,
            &format!("/api/v1/reports/{}", code.to_lowercase()),
            None,
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(status["status"], "received");

        let (_, list) = send(
            &app,
            Method::GET,
            "/api/v1/reports",
            Some(Role::Investigator),
            None,
        )
        .await;
        let id = list[0]["id"].as_i64().unwrap();
        assert_eq!(list[0]["contact"], Value::Null, "anonymous");
        // Opened by one investigator, substantiated by another.
        for (to, reason, token) in [
            (
                "investigating",
                "已分派纪检组",
                app.token(Role::Investigator),
            ),
            ("substantiated", "调取监控属实", app.investigator2.as_str()),
        ] {
            let body = json!({"to": to, "reason": reason, "action": "给予党内警告处分"});
            let r = app
                .client
                .post(app.url(&format!("/api/v1/reports/{id}/transition")))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204, "{to}");
        }
        let (_, status) = send(
            &app,
            Method::GET,
            &format!("/api/v1/reports/{code}"),
            None,
            None,
        )
        .await;
        assert_eq!(status["status"], "substantiated");
        assert_eq!(status["history"].as_array().unwrap().len(), 2);
        let text = status.to_string();
        assert!(
            !text.contains("监控") && !text.contains("处分") && !text.contains("纪检组"),
            "no internal notes: {text}"
        );

        let (s, _) = send(
            &app,
            Method::GET,
            "/api/v1/reports/ABCD-EFGH-JK",
            None,
            None,
        )
        .await;
        assert_eq!(s, 404);
    }
);

both!(
    the_workflow_is_enforced_and_every_step_recorded,
    |app: TestApp| async move {
        let unit = app.unit("规划许可科").0;
        let (s, _) = send(&app, Method::POST, "/api/v1/reports/intake", Some(Role::Investigator), Some(json!({
        "source": "hotline", "unit_id": unit, "description": "来电反映规划许可审批一拖再拖，要求私下“意思意思”。", "contact": "13800000000"
    }))).await;
        assert_eq!(s, 201);
        let (_, list) = send(
            &app,
            Method::GET,
            "/api/v1/reports",
            Some(Role::Organizer),
            None,
        )
        .await;
        let report = &list[0];
        assert_eq!(
            (report["source"].as_str(), report["contact"].as_str()),
            (Some("hotline"), Some("13800000000"))
        );
        let id = report["id"].as_i64().unwrap();
        let step = |to: &'static str, action: Option<&'static str>| {
            let body = json!({"to": to, "reason": "记录", "action": action});
            let path = format!("/api/v1/reports/{id}/transition");
            let app = &app;
            async move {
                send(
                    app,
                    Method::POST,
                    &path,
                    Some(Role::Investigator),
                    Some(body),
                )
                .await
            }
        };
        assert_eq!(
            step("substantiated", Some("免职")).await.0,
            409,
            "no conclusion without investigation"
        );
        assert_eq!(step("investigating", None).await.0, 204);
        let (s, e) = step("substantiated", None).await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (422, Some("action_required"))
        );
        assert_eq!(step("unsubstantiated", None).await.0, 204);
        assert_eq!(
            step("investigating", None).await.0,
            409,
            "a concluded report is final"
        );
        let events = app.store.report_events(id).await.unwrap();
        assert_eq!(
            events
                .iter()
                .map(|e| (e.to.as_str(), e.actor.as_str()))
                .collect::<Vec<_>>(),
            [
                ("investigating", "investigator"),
                ("unsubstantiated", "investigator")
            ]
        );
        // Only investigators move reports; unit users never see them.
        let (s, _) = send(
            &app,
            Method::POST,
            &format!("/api/v1/reports/{id}/transition"),
            Some(Role::Organizer),
            Some(json!({"to": "investigating", "reason": "x"})),
        )
        .await;
        assert_eq!(s, 403);
        let (s, _) = send(&app, Method::GET, "/api/v1/reports", Some(Role::Unit), None).await;
        assert_eq!(s, 403);
    }
);

both!(
    bad_reports_are_refused_with_their_field,
    |app: TestApp| async move {
        let cases = [
            (
                json!({"unit_id": 99999, "description": "一段足够长的描述文字在这里"}),
                "unknown_unit",
            ),
            (
                json!({"unit_id": app.units[0].id.0, "description": "太慢"}),
                "description_too_short",
            ),
            (
                json!({"unit_id": app.units[0].id.0, "description": "一段足够长的描述文字在这里", "occurred_on": "2999-01-01"}),
                "future_date",
            ),
            (json!({"unit_id": app.units[0].id.0}), "invalid_body"),
        ];
        for (body, code) in cases {
            let (s, e) = send(
                &app,
                Method::POST,
                "/api/v1/reports",
                None,
                Some(body.clone()),
            )
            .await;
            assert_eq!(
                (s.as_u16(), e["error"]["code"].as_str()),
                (422, Some(code)),
                "{body}"
            );
        }
        assert!(app.store.reports(None).await.unwrap().is_empty());
    }
);

both!(
    a_substantiated_report_puts_the_unit_first_whatever_the_votes,
    |app: TestApp| async move {
        // In the closed round only 食品经营许可科 was named; 规划许可科 gets a substantiated report.
        let unit = app.unit("规划许可科").0;
        let (s, _) = send(
            &app,
            Method::POST,
            "/api/v1/reports",
            None,
            Some(json!({"unit_id": unit, "description": "审批人员收受红包后才盖章，有转账记录。"})),
        )
        .await;
        assert_eq!(s, 201);
        let id = app.store.reports(None).await.unwrap()[0].id;
        for (to, token) in [
            ("investigating", app.token(Role::Investigator)),
            ("substantiated", app.investigator2.as_str()),
        ] {
            let body = json!({"to": to, "reason": "查实", "action": "立案审查"});
            let r = app
                .client
                .post(app.url(&format!("/api/v1/reports/{id}/transition")))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204, "{to}");
        }
        let round = app.closed_round.0;
        let (_, preview) = send(
            &app,
            Method::GET,
            &format!("/api/v1/rounds/{round}/preview"),
            Some(Role::Organizer),
            None,
        )
        .await;
        assert_eq!(preview[0]["unit"], "规划许可科");
        assert_eq!(preview[0]["rank"], 1);
        assert_eq!(preview[0]["override"], "substantiated_report");
        assert_eq!(preview[1]["unit"], "食品经营许可科");
        assert_eq!(preview[1]["override"], Value::Null);
    }
);

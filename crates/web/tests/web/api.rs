//! The JSON API contract, on SQLite and on PostgreSQL.

use crate::support;

use minping_domain::{Role, RoundId};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestApp;

async fn post_ballot(app: &TestApp, round: RoundId, body: &Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{round}/ballots")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn nomination(unit: i64, indicators: &[&str], comment: Option<&str>) -> Value {
    json!({"unit_id": unit, "indicators": indicators, "comment": comment})
}

both!(health_answers_ok, |app: TestApp| async move {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
});

both!(
    units_are_listed_with_their_agency_and_state,
    |app: TestApp| async move {
        let units: Value = app
            .client
            .get(app.url("/api/v1/units"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let units = units.as_array().unwrap();
        assert_eq!(units.len(), 5);
        let office = units
            .iter()
            .find(|u| u["name"] == "不动产登记中心")
            .unwrap();
        assert_eq!(office["agency"], "区规划和自然资源局");
        assert_eq!(office["kind"], "科室");
        assert_eq!(office["active"], true);
        assert!(office["id"].is_i64());
        let retired = units.iter().find(|u| u["name"] == "已撤销的科").unwrap();
        assert_eq!(retired["active"], false);
    }
);

both!(
    rounds_are_listed_with_label_and_state,
    |app: TestApp| async move {
        let rounds: Value = app
            .client
            .get(app.url("/api/v1/rounds"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let states: Vec<(String, String)> = rounds
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["label"].as_str().unwrap().into(),
                    r["state"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("2026Q4".into(), "open".into()),
                ("2026Q3".into(), "closed".into()),
                ("2026Q2".into(), "published".into())
            ]
        );
    }
);

both!(
    a_valid_ballot_gets_a_receipt_and_is_stored,
    |app: TestApp| async move {
        let office = app.unit("不动产登记中心").0;
        let registry = app.unit("企业注册科").0;
        let body = json!({
            "channel": "open",
            "nominations": [
                nomination(office, &["cold", "greedy"], Some("办事人员暗示要请吃饭")),
                nomination(registry, &["shirking"], None),
            ],
            "exposure": [office, registry],
        });
        let (status, reply) = post_ballot(&app, app.open_round, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        let receipt = reply["receipt"].as_str().unwrap();
        let stored = app
            .store
            .ballot_by_receipt(receipt)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(stored.round_id, app.open_round);
        assert_eq!(stored.ballot.nominations.len(), 2);
        let greedy_office = stored
            .ballot
            .nominations
            .iter()
            .find(|n| n.unit_id.0 == office)
            .unwrap();
        assert_eq!(
            greedy_office.comment.as_deref(),
            Some("办事人员暗示要请吃饭")
        );
        assert_eq!(greedy_office.indicators.count(), 2);

        let public: Value = app
            .client
            .get(app.url(&format!("/api/v1/receipts/{receipt}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The public answer for a receipt is where the ballot stands, never what it said.
        assert_eq!(
            public,
            json!({"receipt": receipt, "round_id": app.open_round.0, "status": "stored"})
        );
    }
);

both!(
    every_kind_of_bad_ballot_is_refused_with_its_code_and_nothing_is_stored,
    |app: TestApp| async move {
        let office = app.unit("不动产登记中心").0;
        let retired = app.unit("已撤销的科").0;
        let before = app.store.ballot_count(app.open_round).await.unwrap();
        let eleven: Vec<Value> = (0..11)
            .map(|i| nomination(office + i, &["cold"], None))
            .collect();
        let cases: Vec<(Value, u16, &str, Option<&str>)> = vec![
            (
                json!({"channel": "open", "nominations": [nomination(99999, &["cold"], None)]}),
                422,
                "unknown_unit",
                Some("nominations[0].unit_id"),
            ),
            (
                json!({"channel": "open", "nominations": [nomination(retired, &["cold"], None)]}),
                422,
                "unknown_unit",
                Some("nominations[0].unit_id"),
            ),
            (
                json!({"channel": "open", "nominations": [nomination(office, &["cold"], None), nomination(office, &["lazy"], None)]}),
                422,
                "duplicate_unit",
                Some("nominations[1].unit_id"),
            ),
            (
                json!({"channel": "open", "nominations": [nomination(office, &[], None)]}),
                422,
                "no_indicator",
                Some("nominations[0].indicators"),
            ),
            (
                json!({"channel": "open", "nominations": [nomination(office, &["rude"], None)]}),
                422,
                "unknown_indicator",
                Some("nominations[0].indicators"),
            ),
            (
                json!({"channel": "open", "nominations": eleven}),
                422,
                "too_many_nominations",
                Some("nominations"),
            ),
            (
                json!({"channel": "open", "nominations": [nomination(office, &["cold"], Some(&"慢".repeat(501)))]}),
                422,
                "comment_too_long",
                Some("nominations[0].comment"),
            ),
            (
                json!({"channel": "open", "nominations": []}),
                422,
                "no_nominations",
                Some("nominations"),
            ),
            (
                json!({"channel": "fax", "nominations": [nomination(office, &["cold"], None)]}),
                422,
                "unknown_channel",
                Some("channel"),
            ),
            (
                json!({"channel": "directed", "nominations": [nomination(office, &["cold"], None)]}),
                422,
                "code_required",
                Some("code"),
            ),
            (
                json!({"channel": "directed", "code": "ABCD-EFGH-JK", "nominations": [nomination(office, &["cold"], None)]}),
                422,
                "code_invalid",
                Some("code"),
            ),
            (
                json!({"nominations": [nomination(office, &["cold"], None)]}),
                422,
                "invalid_body",
                None,
            ),
            (
                json!({"channel": "open", "nominations": [nomination(office, &["cold"], None)], "name": "张三"}),
                422,
                "invalid_body",
                None,
            ),
            (
                json!({"channel": "open", "nominations": [{"unit_id": "x", "indicators": ["cold"]}]}),
                422,
                "invalid_body",
                None,
            ),
        ];
        for (body, status, code, field) in cases {
            let (got, reply) = post_ballot(&app, app.open_round, &body).await;
            assert_eq!(got.as_u16(), status, "{body} → {reply}");
            assert_eq!(reply["error"]["code"], code, "{body} → {reply}");
            assert!(
                reply["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
            if let Some(field) = field {
                assert_eq!(reply["error"]["field"], field, "{body} → {reply}");
            }
        }
        let ok = json!({"channel": "open", "nominations": [nomination(office, &["cold"], None)]});
        let (status, reply) = post_ballot(&app, app.closed_round, &ok).await;
        assert_eq!(
            (status.as_u16(), reply["error"]["code"].as_str()),
            (409, Some("round_not_open"))
        );
        let (status, reply) = post_ballot(&app, RoundId(987_654), &ok).await;
        assert_eq!(
            (status.as_u16(), reply["error"]["code"].as_str()),
            (404, Some("round_not_found"))
        );

        let raw = |body: &'static str, content_type: &'static str, path: String| {
            app.client
                .post(app.url(&path))
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        let path = format!("/api/v1/rounds/{}/ballots", app.open_round);
        let r = raw("{\"channel\": \"open\", ", "application/json", path.clone())
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "malformed_json"
        );
        let r = raw("channel=open", "application/x-www-form-urlencoded", path)
            .await
            .unwrap();
        assert_eq!(r.status(), 415);
        let r = raw(
            "{}",
            "application/json",
            "/api/v1/rounds/not-a-number/ballots".into(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "bad_path"
        );

        assert_eq!(
            app.store.ballot_count(app.open_round).await.unwrap(),
            before
        );
        assert_eq!(app.store.ballot_count(app.closed_round).await.unwrap(), 1);
    }
);

both!(
    published_results_follow_the_contract,
    |app: TestApp| async move {
        let r: Value = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{}/results", app.published_round)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["round"]["label"], "2026Q2");
        assert_eq!(r["round"]["state"], "published");
        assert_eq!(r["method"]["name"], "weighted_nominations");
        assert_eq!(r["ballots"], 4);
        let ranking = r["ranking"].as_array().unwrap();
        let lines: Vec<(u64, &str, f64, u64)> = ranking
            .iter()
            .map(|l| {
                (
                    l["rank"].as_u64().unwrap(),
                    l["unit"].as_str().unwrap(),
                    l["score"].as_f64().unwrap(),
                    l["nominations"].as_u64().unwrap(),
                )
            })
            .collect();
        // 企业注册科 and 规划许可科 both have 2 nominations; the 贪 tick breaks the tie. Each
        // is an open-channel nomination, at the default weight of one half.
        assert_eq!(
            lines,
            [
                (1, "不动产登记中心", 1.5, 3),
                (2, "企业注册科", 1.0, 2),
                (3, "规划许可科", 1.0, 2)
            ]
        );
        let first = &ranking[0];
        assert_eq!(first["agency"], "区规划和自然资源局");
        assert_eq!(
            first["indicators"],
            json!({"cold": 2, "lazy": 1, "shirking": 1, "arbitrary": 0, "greedy": 0})
        );
        assert_eq!(first["override"], Value::Null);
        assert!(first["unit_id"].is_i64());
        assert_eq!(ranking[1]["indicators"]["greedy"], 1);
    }
);

both!(
    unpublished_results_do_not_exist_for_the_public,
    |app: TestApp| async move {
        for round in [app.open_round, app.closed_round, RoundId(424_242)] {
            let r = app
                .client
                .get(app.url(&format!("/api/v1/rounds/{round}/results")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404);
            assert_eq!(
                r.json::<Value>().await.unwrap()["error"]["code"],
                "not_found"
            );
        }
    }
);

async fn transition(app: &TestApp, round: i64, to: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{round}/transition")))
        .bearer_auth(app.token(Role::Organizer))
        .json(&json!({"to": to}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

both!(
    an_organizer_runs_a_whole_round_through_the_api,
    |app: TestApp| async move {
        let org = app.token(Role::Organizer);
        // A second round cannot open while 2026Q4 is open.
        let r = app
            .client
            .post(app.url("/api/v1/rounds"))
            .bearer_auth(org)
            .json(&json!({"label": "2027Q1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let next: Value = r.json().await.unwrap();
        assert_eq!(next["state"], "draft");
        let next_id = next["id"].as_i64().unwrap();
        let (status, reply) = transition(&app, next_id, "open").await;
        assert_eq!(
            (status.as_u16(), reply["error"]["code"].as_str()),
            (409, Some("another_round_open"))
        );
        let (status, reply) = transition(&app, next_id, "published").await;
        assert_eq!(
            (status.as_u16(), reply["error"]["code"].as_str()),
            (409, Some("invalid_transition"))
        );
        let (status, _) = transition(&app, next_id, "reopened").await;
        assert_eq!(status.as_u16(), 422);
        let r = app
            .client
            .post(app.url("/api/v1/rounds"))
            .bearer_auth(org)
            .json(&json!({"label": "2027Q1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = app
            .client
            .post(app.url("/api/v1/rounds"))
            .bearer_auth(org)
            .json(&json!({"label": "2027Q5"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);

        // Citizens vote in the open round, then it is closed, previewed, finalized, published.
        let office = app.unit("不动产登记中心").0;
        let food = app.unit("食品经营许可科").0;
        for noms in [
            vec![nomination(food, &["lazy"], None)],
            vec![
                nomination(food, &["arbitrary"], None),
                nomination(office, &["cold"], None),
            ],
        ] {
            let (status, _) = post_ballot(
                &app,
                app.open_round,
                &json!({"channel": "open", "nominations": noms}),
            )
            .await;
            assert_eq!(status, 201);
        }
        let round = app.open_round.0;
        let r = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/preview")))
            .bearer_auth(org)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "no preview while open");
        assert_eq!(transition(&app, round, "closed").await.0, 200);
        let (status, _) = post_ballot(
            &app,
            app.open_round,
            &json!({"channel": "open", "nominations": [nomination(office, &["cold"], None)]}),
        )
        .await;
        assert_eq!(status, 409, "a closed round takes no ballots");
        let preview: Value = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/preview")))
            .bearer_auth(org)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(preview[0]["unit"], "食品经营许可科");
        assert_eq!(preview[0]["nominations"], 2);
        let r = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/results")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(transition(&app, round, "finalized").await.0, 200);
        // Finalized: the organizer and leaders see the frozen results, the public does not yet.
        let r = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/results")))
            .bearer_auth(app.token(Role::Leader))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/results")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(transition(&app, round, "published").await.0, 200);
        let results: Value = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/results")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(results["ranking"][0]["unit"], "食品经营许可科");
        assert_eq!(
            results["ranking"],
            preview.as_array().map(|rows| json!(rows)).unwrap(),
            "publication freezes what the preview showed"
        );
        let log: Value = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/transitions")))
            .bearer_auth(org)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let steps: Vec<(&str, &str)> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["to"].as_str().unwrap(), t["actor"].as_str().unwrap()))
            .collect();
        assert_eq!(
            steps,
            [
                ("draft", "system"),
                ("open", "system"),
                ("closed", "organizer"),
                ("finalized", "organizer"),
                ("published", "organizer")
            ]
        );
    }
);

both!(
    the_organisation_can_be_managed_through_the_api,
    |app: TestApp| async move {
        let org = app.token(Role::Organizer);
        let agency: Value = app
            .client
            .post(app.url("/api/v1/agencies"))
            .bearer_auth(org)
            .json(&json!({"name": "区民政局"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = app
            .client
            .post(app.url("/api/v1/agencies"))
            .bearer_auth(org)
            .json(&json!({"name": "区民政局"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let r = app
            .client
            .post(app.url("/api/v1/units"))
            .bearer_auth(org)
            .json(&json!({"agency_id": agency["id"], "name": "殡仪馆"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let unit: Value = r.json().await.unwrap();
        assert_eq!(
            (unit["agency"].as_str(), unit["kind"].as_str()),
            (Some("区民政局"), Some("科室"))
        );
        let r = app
            .client
            .post(app.url("/api/v1/units"))
            .bearer_auth(org)
            .json(&json!({"agency_id": 777777, "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap()["error"]["code"].clone()
            ),
            (422, json!("unknown_agency"))
        );
        let r = app
            .client
            .post(app.url("/api/v1/units"))
            .bearer_auth(org)
            .json(&json!({"agency_id": agency["id"], "name": "  "}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);

        // A new unit can be named at once; retiring it stops that, and keeps it listed.
        let ballot = json!({"channel": "open", "nominations": [nomination(unit["id"].as_i64().unwrap(), &["cold"], None)]});
        assert_eq!(post_ballot(&app, app.open_round, &ballot).await.0, 201);
        let r = app
            .client
            .post(app.url(&format!("/api/v1/units/{}/active", unit["id"])))
            .bearer_auth(org)
            .json(&json!({"active": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            post_ballot(&app, app.open_round, &ballot).await.1["error"]["code"],
            "unknown_unit"
        );

        let person: Value = app
            .client
            .post(app.url("/api/v1/people"))
            .bearer_auth(org)
            .json(&json!({"name": "张馆长"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let post = |start: &str| {
            app.client
            .post(app.url("/api/v1/posts"))
            .bearer_auth(org)
            .json(&json!({"person_id": person["id"], "unit_id": unit["id"], "role": "head", "start": start}))
            .send()
        };
        assert_eq!(post("2025-01-01").await.unwrap().status(), 201);
        assert_eq!(
            post("2024-01-01").await.unwrap().status(),
            409,
            "cannot start before a recorded later holder"
        );
        let r = app.client.post(app.url("/api/v1/posts")).bearer_auth(org).json(&json!({"person_id": person["id"], "unit_id": unit["id"], "role": "boss", "start": "2025-01-01"})).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let posts: Value = app
            .client
            .get(app.url("/api/v1/posts"))
            .bearer_auth(org)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            posts
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["person"] == "张馆长" && p["role"] == "head" && p["end"].is_null())
        );
    }
);

both!(
    the_openapi_document_describes_the_contract,
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
        for path in [
            "/api/v1/units",
            "/api/v1/rounds",
            "/api/v1/rounds/{id}/results",
            "/api/v1/rounds/{id}/ballots",
            "/healthz",
        ] {
            assert!(
                doc["paths"][path].is_object(),
                "{path} missing from OpenAPI"
            );
        }
        assert!(
            doc["paths"]["/api/v1/rounds/{id}/ballots"]["post"]["responses"]["201"].is_object()
        );
    }
);

both!(
    a_round_closed_while_intake_remembers_it_open_still_refuses_ballots,
    |app: TestApp| async move {
        let office = app.units[0].id.0;
        let ok = json!({"channel": "open", "nominations": [nomination(office, &["cold"], None)]});
        let (status, _) = post_ballot(&app, app.open_round, &ok).await;
        assert_eq!(
            status.as_u16(),
            201,
            "intake now remembers the round as open"
        );
        // Closed straight in storage, as another node would: this node's copy is stale.
        let organizer = minping_storage::Actor {
            user_id: None,
            name: "another node".into(),
        };
        app.store
            .transition_round(
                app.open_round,
                minping_domain::RoundState::Open,
                minping_domain::RoundState::Closed,
                &organizer,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let before = app.store.ballot_count(app.open_round).await.unwrap();
        let (status, reply) = post_ballot(&app, app.open_round, &ok).await;
        assert_eq!(
            (status.as_u16(), reply["error"]["code"].as_str()),
            (409, Some("round_not_open"))
        );
        assert_eq!(
            app.store.ballot_count(app.open_round).await.unwrap(),
            before
        );
    }
);

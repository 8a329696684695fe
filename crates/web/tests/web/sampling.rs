//! The panel's draw, online answering with a one-time code, response tracking, the conflict
//! queue, and ballot secrecy — on SQLite and PostgreSQL.

use crate::support;

use chrono::NaiveDate;
use minping_domain::{Period, Role, RoundId, code::OneTimeCode, panel::NewMember};
use minping_storage::{Actor, MailStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use support::{CODE_KEY, TestApp, raw};

/// `n` members spread over the four default groups in the proportions 5:3:1.5:0.5.
async fn registry(app: &TestApp, n: usize) -> Vec<i64> {
    let groups = ["enterprise", "individual", "deputy", "community"];
    let members: Vec<NewMember> = (0..n)
        .map(|i| NewMember {
            name: format!("成员{i}"),
            group: groups[match i % 20 {
                0..=9 => 0,
                10..=15 => 1,
                16..=18 => 2,
                _ => 3,
            }]
            .into(),
            address: format!("南川区东城街道{}号", i + 1),
            postcode: format!("4084{:02}", i % 100),
            phone: format!("138{:08}", i),
            units: vec!["不动产登记中心".into()],
            source: "测试".into(),
            added_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        })
        .collect();
    app.store
        .add_members(
            &members,
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(app.token(Role::Organizer));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn draw(app: &TestApp, round: RoundId, size: usize, seed: &str) -> Value {
    let (s, frame) = api(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/rounds/{round}/panel/frame"),
        Some(json!({"sample_size": size})),
    )
    .await;
    assert_eq!(s, 201, "{frame}");
    let (s, drawn) = api(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/rounds/{round}/panel/draw"),
        Some(json!({"seed": seed})),
    )
    .await;
    assert_eq!(s, 201, "{drawn}");
    assert_eq!(drawn["frame_hash"], frame["frame_hash"]);
    drawn
}

fn code(round: RoundId, member: i64) -> OneTimeCode {
    OneTimeCode::derive(CODE_KEY, round.0, member)
}

async fn directed(app: &TestApp, round: RoundId, code: &str) -> (StatusCode, Value) {
    let body = json!({"channel": "directed", "code": code, "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["lazy", "greedy"], "comment": "窗口经常无人"}]});
    send_ballot(app, round, &body).await
}

/// Sends a ballot (JSON) to the round's intake; the status and the answer.
async fn send_ballot(app: &TestApp, round: RoundId, body: &Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{round}/ballots")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

both!(
    a_draw_is_stratified_reproducible_and_verifiable_by_anyone,
    |app: TestApp| async move {
        registry(&app, 400).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 100, "20261127-福彩3D-581").await;
        assert_eq!(
            drawn["allocation"],
            json!({"community": 5, "deputy": 15, "enterprise": 50, "individual": 30})
        );
        assert_eq!(drawn["members"].as_array().unwrap().len(), 100);

        // The published frame hashes to the recorded hash, and a re-run confirms the sample.
        let frame = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/panel/frame")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(frame.lines().count(), 400);
        let frame = minping_domain::panel::Frame::from_text(&frame).unwrap();
        assert_eq!(json!(frame.hash()), drawn["frame_hash"]);
        let again = minping_domain::panel::draw::draw(&frame, 100, "20261127-福彩3D-581");
        assert_eq!(json!(again.members), drawn["members"]);
        let verified: Value = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/panel/verify")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (
                verified["frame_hash_matches"].as_bool(),
                verified["sample_matches"].as_bool()
            ),
            (Some(true), Some(true))
        );
        let other_seed = minping_app::draws::verify(&app.state, round, None, Some("another seed"))
            .await
            .unwrap();
        assert!(
            !other_seed.sample_matches,
            "a different seed does not reproduce the sample"
        );

        // Once only.
        let (s, e) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/rounds/{round}/panel/draw"),
            Some(json!({"seed": "x"})),
        )
        .await;
        assert_eq!(
            (s.as_u16(), e["error"]["code"].as_str()),
            (409, Some("already_drawn"))
        );

        // The next quarter's frame leaves out everyone drawn in the last two rounds, and the inactive.
        let next = app
            .store
            .create_round(
                Period::quarter(2027, 1).unwrap(),
                &Default::default(),
                &Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let gone = drawn["members"][0].as_i64().unwrap() + 1;
        let gone = if drawn["members"].as_array().unwrap().contains(&json!(gone)) {
            1_000_000
        } else {
            gone
        };
        if gone != 1_000_000 {
            app.store
                .deactivate_member(
                    gone,
                    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                    "moved away",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
            let again = app
                .store
                .deactivate_member(
                    gone,
                    NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                    "other",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await;
            assert!(
                matches!(again, Err(minping_storage::StorageError::Conflict(_))),
                "the first record of leaving is kept"
            );
        }
        let (s, next_frame) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/rounds/{}/panel/frame", next.id),
            Some(json!({})),
        )
        .await;
        assert_eq!(s, 201);
        let expected_eligible = 400 - 100 - usize::from(gone != 1_000_000);
        assert_eq!(next_frame["eligible"], expected_eligible);
        let text = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{}/panel/frame", next.id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let ids: BTreeSet<i64> = text
            .lines()
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        for m in drawn["members"].as_array().unwrap() {
            assert!(!ids.contains(&m.as_i64().unwrap()));
        }
        assert!(!ids.contains(&gone));
    }
);

both!(
    a_panel_member_answers_once_with_the_code_and_a_second_use_is_kept_for_review,
    |app: TestApp| async move {
        registry(&app, 60).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 20, "7").await;
        let members: Vec<i64> = drawn["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_i64().unwrap())
            .collect();
        let first = code(round, members[0]);

        let (s, r) = directed(&app, round, &first.printed().to_lowercase()).await;
        assert_eq!(s, 201, "{r}");
        let stored = app
            .store
            .ballot_by_receipt(r["receipt"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.received_on, None, "a directed ballot keeps no date");
        assert_eq!(stored.ballot.channel, minping_domain::Channel::Directed);

        let (s, r) = directed(&app, round, first.as_str()).await;
        assert_eq!(
            (s.as_u16(), r["error"]["code"].as_str()),
            (409, Some("code_already_used"))
        );
        let conflicts: Value = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/rounds/{round}/conflicts"),
            None,
        )
        .await
        .1;
        assert_eq!(conflicts.as_array().unwrap().len(), 1);
        assert_eq!(conflicts[0]["state"], "pending");
        assert_eq!(
            conflicts[0]["ballot"]["nominations"][0]["comment"], "窗口经常无人",
            "the refused ballot is kept whole"
        );

        let mut typo = first.as_str().to_string();
        typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
        let (s, r) = directed(&app, round, &typo).await;
        assert_eq!(
            (s.as_u16(), r["error"]["code"].as_str()),
            (422, Some("code_invalid"))
        );
        let stranger = (1..)
            .map(|m| m * 1000)
            .find(|m| !members.contains(m))
            .unwrap();
        let (s, r) = directed(&app, round, code(round, stranger).as_str()).await;
        assert_eq!(
            (s.as_u16(), r["error"]["code"].as_str()),
            (422, Some("code_invalid"))
        );
        assert_eq!(app.store.ballot_count(round).await.unwrap(), 1);

        // The organizer sets the second use aside, with a reason.
        let id = conflicts[0]["id"].as_i64().unwrap();
        let (s, c) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/conflicts/{id}/resolve"),
            Some(json!({"count": false, "reason": "同一人重复提交"})),
        )
        .await;
        assert_eq!((s.as_u16(), c["state"].as_str()), (200, Some("dismissed")));
        let (s, _) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/conflicts/{id}/resolve"),
            Some(json!({"count": true, "reason": "x"})),
        )
        .await;
        assert_eq!(s, 409);
    }
);

both!(
    a_kept_ballot_counted_by_two_organizers_at_once_counts_once,
    |app: TestApp| async move {
        registry(&app, 30).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 10, "5").await;
        let printed = code(round, drawn["members"][0].as_i64().unwrap()).printed();
        assert_eq!(directed(&app, round, &printed).await.0, 201);
        assert_eq!(directed(&app, round, &printed).await.0, 409);
        let conflicts = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/rounds/{round}/conflicts"),
            None,
        )
        .await
        .1;
        let id = conflicts[0]["id"].as_i64().unwrap();
        let path = format!("/api/v1/conflicts/{id}/resolve");
        let count = || {
            api(
                &app,
                reqwest::Method::POST,
                &path,
                Some(json!({"count": true, "reason": "本人确认第二份为更正"})),
            )
        };
        let answers = tokio::join!(count(), count(), count(), count());
        let answers = [answers.0, answers.1, answers.2, answers.3];
        let counted: Vec<_> = answers.iter().filter(|(s, _)| s.as_u16() == 200).collect();
        let refused = answers.iter().filter(|(s, _)| s.as_u16() == 409).count();
        assert_eq!((counted.len(), refused), (1, 3), "{answers:?}");
        assert_eq!(counted[0].1["state"], "counted");
        assert_eq!(
            app.store.ballot_count(round).await.unwrap(),
            2,
            "the first ballot and the kept one, once"
        );
    }
);

both!(
    one_code_sent_many_times_at_once_counts_once,
    |app: TestApp| async move {
        // Several ballots with the same code in flight together (on PostgreSQL they can be
        // in different transactions committing side by side): one is counted, every other
        // is refused as a second use, and one of them (the last) waits for review: a
        // mailed form can never become more than two counted ballots.
        registry(&app, 40).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 10, "9").await;
        let member = drawn["members"][0].as_i64().unwrap();
        let printed = code(round, member).printed();
        let mut sends = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let client = app.client.clone();
            let url = app.url(&format!("/api/v1/rounds/{round}/ballots"));
            let body = json!({"channel": "directed", "code": printed, "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]});
            sends.spawn(async move {
                let r = client.post(url).json(&body).send().await.unwrap();
                (r.status(), r.json::<Value>().await.unwrap())
            });
        }
        let answers = sends.join_all().await;
        let counted = answers.iter().filter(|(s, _)| s.as_u16() == 201).count();
        let kept = answers
            .iter()
            .filter(|(s, r)| s.as_u16() == 409 && r["error"]["code"] == "code_already_used")
            .count();
        assert_eq!((counted, kept), (1, 11), "{answers:?}");
        assert_eq!(app.store.ballot_count(round).await.unwrap(), 1);
        let conflicts: Value = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/rounds/{round}/conflicts"),
            None,
        )
        .await
        .1;
        assert_eq!(
            conflicts.as_array().unwrap().len(),
            1,
            "twelve sends of one code leave one conflict: {conflicts}"
        );
        assert_eq!(conflicts[0]["state"], "pending");

        // Once decided, the code takes nothing more: no new conflict, nothing counted.
        let id = conflicts[0]["id"].as_i64().unwrap();
        let (s, _) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/conflicts/{id}/resolve"),
            Some(json!({"count": true, "reason": "第一次提交是家人误填"})),
        )
        .await;
        assert_eq!(s, 200);
        for _ in 0..3 {
            let r = app
                .client
                .post(app.url(&format!("/api/v1/rounds/{round}/ballots")))
                .json(&json!({"channel": "directed", "code": printed, "nominations": [{"unit_id": app.units[1].id.0, "indicators": ["lazy"]}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 409);
        }
        let after = app.store.conflicts(round).await.unwrap();
        assert_eq!(after.len(), 1, "no conflict added after the decision");
        assert_eq!(after[0].state, "counted");
        assert_eq!(app.store.ballot_count(round).await.unwrap(), 2);
        // The decided conflict no longer holds the code's digest beside its content.
        let digest = code(round, member).digest(CODE_KEY);
        assert_ne!(after[0].code_digest, digest);
        assert!(!after[0].code_digest.contains(&digest));
    }
);

both!(
    response_tracking_says_who_answered_never_what,
    |app: TestApp| async move {
        registry(&app, 40).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 20, "42").await;
        let members: Vec<i64> = drawn["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_i64().unwrap())
            .collect();
        let (s, _) = api(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/rounds/{round}/panel/mail-status"),
            Some(json!({"all_drawn": true, "status": "mailed"})),
        )
        .await;
        assert_eq!(s, 204);
        app.store
            .set_mail_status(
                round,
                &[members[1]],
                MailStatus::Undeliverable,
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        app.store
            .set_mail_status(
                round,
                &[members[2]],
                MailStatus::Refused,
                &minping_storage::Actor::system(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        for m in &members[3..7] {
            assert_eq!(directed(&app, round, code(round, *m).as_str()).await.0, 201);
        }
        let (_, response) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/rounds/{round}/panel/response"),
            None,
        )
        .await;
        let total = &response["total"];
        assert_eq!(
            (
                total["drawn"].as_i64(),
                total["mailed"].as_i64(),
                total["online"].as_i64(),
                total["undeliverable"].as_i64(),
                total["refused"].as_i64()
            ),
            (Some(20), Some(20), Some(4), Some(1), Some(1))
        );
        let rate = response["response_rate"].as_f64().unwrap();
        assert!((rate - 4.0 / 19.0).abs() < 1e-9, "{rate}");
        let strata: i64 = response["strata"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["drawn"].as_i64().unwrap())
            .sum();
        assert_eq!(strata, 20);

        let (_, pending) = api(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/rounds/{round}/panel/nonrespondents"),
            None,
        )
        .await;
        let pending: BTreeSet<i64> = pending
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["member_id"].as_i64().unwrap())
            .collect();
        let expected: BTreeSet<i64> = members
            .iter()
            .copied()
            .filter(|m| {
                ![
                    members[1], members[2], members[3], members[4], members[5], members[6],
                ]
                .contains(m)
            })
            .collect();
        assert_eq!(pending, expected);
        let body = serde_json::to_string(&response).unwrap();
        assert!(
            !body.contains("lazy") && !body.contains("窗口"),
            "response figures carry nothing of what was answered"
        );
    }
);

both!(
    the_public_form_takes_the_code_from_the_qr_url,
    |app: TestApp| async move {
        registry(&app, 10).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 5, "1").await;
        let member = drawn["members"][0].as_i64().unwrap();
        let c = code(round, member);
        let page = app
            .client
            .get(app.url(&format!("/rounds/{round}/ballot")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The printed QR address carries the code in its fragment, which the browser keeps
        // to itself: the request is the bare form, and the page's script fills the field.
        let pdf = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/panel/forms.pdf")))
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let printed = support::pdf_text(&pdf);
        assert!(
            printed.contains(&format!("/rounds/{round}/ballot#code={}", c.as_str())),
            "{printed}"
        );
        assert!(!printed.contains("?code="));
        assert!(
            page.contains("name=\"code\" value=\"\""),
            "the server never echoes a code"
        );
        assert!(page.contains("/static/ballot.js"));
        let token = {
            let at = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
            page[at..at + 32].to_string()
        };
        let unit = app.units[2].id.0;
        let send = || {
            app.client
                .post(app.url(&format!("/rounds/{round}/ballot")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string([
                        ("_csrf".to_string(), token.clone()),
                        ("code".to_string(), c.printed()),
                        (format!("u{unit}"), "shirking".to_string()),
                    ])
                    .unwrap(),
                )
                .send()
        };
        let r = send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = send().await.unwrap();
        assert_eq!(r.status(), 409);
        let html = r.text().await.unwrap();
        assert!(html.contains("此评议码已经使用过") && html.contains("不会被丢弃"));
    }
);

/// Every column of the tables holding ballots, and of those holding panel members and
/// their codes, as (table, column).
async fn columns(app: &TestApp, tables: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in tables {
        let sql = match &app.pg {
            None => format!("SELECT name, '' FROM pragma_table_info('{t}')"),
            Some(_) => format!(
                "SELECT CAST(column_name AS TEXT), '' FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{t}'"
            ),
        };
        let names: Vec<(String, String)> = raw(app, &sql).await;
        assert!(!names.is_empty(), "{t} has columns");
        out.extend(names.into_iter().map(|(c, _)| (t.to_string(), c)));
    }
    out
}

/// What a column holds, so that only joins of like with like are tried (a unit id equal to
/// a member id by coincidence means nothing).
fn kind(table: &str, column: &str) -> &'static str {
    match (table, column) {
        (_, "round_id") => "round",
        (_, "unit_id") => "unit",
        (_, "member_id") | ("panel_members", "id") => "member",
        ("ballots", "id") | (_, "ballot_id") => "ballot",
        (_, "id") | (_, "clerk_id") => "other id",
        (_, c) if c.ends_with("_on") || c.ends_with("_at") => "date",
        // Counts, flags and masks only ever equal each other by coincidence.
        (_, "indicators" | "active" | "sample_size") => "number",
        _ => "text",
    }
}

both!(
    no_join_the_schema_allows_links_a_ballot_to_the_member_who_cast_it,
    |app: TestApp| async move {
        registry(&app, 30).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 10, "secrecy").await;
        let members: Vec<i64> = drawn["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_i64().unwrap())
            .collect();
        // Two members answer the same day with different ballots; someone answers the open form.
        let (s, _) = directed(&app, round, code(round, members[0]).as_str()).await;
        assert_eq!(s, 201);
        let body = json!({"channel": "directed", "code": code(round, members[1]).as_str(), "nominations": [{"unit_id": app.units[3].id.0, "indicators": ["cold"]}], "exposure": [app.units[3].id.0]});
        assert_eq!(
            app.client
                .post(app.url(&format!("/api/v1/rounds/{round}/ballots")))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status(),
            201
        );
        let open = json!({"channel": "open", "nominations": [{"unit_id": app.units[1].id.0, "indicators": ["arbitrary"]}]});
        assert_eq!(
            app.client
                .post(app.url(&format!("/api/v1/rounds/{round}/ballots")))
                .json(&open)
                .send()
                .await
                .unwrap()
                .status(),
            201
        );

        let ballot_side = columns(
            &app,
            &[
                "ballots",
                "nominations",
                "exposures",
                "intake_signals",
                "held_ballots",
            ],
        )
        .await;
        let member_side = columns(
            &app,
            &[
                "panel_members",
                "panel_sample",
                "panel_frames",
                "code_conflicts",
                "paper_entries",
                "paper_forms",
            ],
        )
        .await;
        let (ballot_table_key, member_table_key) = (
            |t: &str| if t == "ballots" { "id" } else { "ballot_id" },
            |t: &str| match t {
                "panel_members" => Some("id"),
                "panel_sample" => Some("member_id"),
                _ => None,
            },
        );
        let mut tried = 0;
        for (bt, bc) in &ballot_side {
            for (mt, mc) in &member_side {
                if kind(bt, bc) != kind(mt, mc) || kind(bt, bc) == "number" {
                    continue;
                }
                tried += 1;
                // Which (directed ballot, respondent) pairs does this join produce?
                let member_expr = match member_table_key(mt) {
                    Some(k) => format!("m.{k}"),
                    None => "NULL".into(),
                };
                let sql = format!(
                    "SELECT DISTINCT CAST(b.id AS TEXT), CAST({member_expr} AS TEXT) FROM ballots b \
                 JOIN {bt} x ON x.{bkey} = b.id JOIN {mt} m ON CAST(x.{bc} AS TEXT) = CAST(m.{mc} AS TEXT) \
                 WHERE b.channel = 'directed'",
                    bkey = ballot_table_key(bt),
                );
                let pairs: Vec<(String, Option<String>)> = raw(&app, &sql).await;
                // A join may relate nothing, or relate every directed ballot alike (e.g. both are
                // in the round); it must never single out who cast which.
                let mut by_ballot: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
                for (b, m) in pairs {
                    by_ballot.entry(b).or_default().insert(m);
                }
                let distinct: BTreeSet<&BTreeSet<Option<String>>> = by_ballot.values().collect();
                assert!(
                    by_ballot.is_empty() || (by_ballot.len() == 2 && distinct.len() == 1),
                    "{bt}.{bc} = {mt}.{mc} tells ballots apart by member: {by_ballot:?}"
                );
            }
        }
        assert!(tried >= 10, "only {tried} joins tried");
    }
);

/// Pairs the `(member, receipt)` lists a reader of the database would line up, and counts
/// how many pairs are right.
fn right_pairs(
    members: &[(String, String)],
    ballots: &[(String, String)],
    truth: &BTreeMap<String, String>,
) -> usize {
    // First appearance only: a table may hold several rows per member or per ballot.
    let firsts = |rows: &[(String, String)]| {
        let mut seen = BTreeSet::new();
        rows.iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    };
    firsts(members)
        .iter()
        .zip(firsts(ballots))
        .filter(|(m, b)| truth.get(*m) == Some(b))
        .count()
}

both!(
    directed_ballots_arriving_one_at_a_time_cannot_be_paired_with_their_members,
    |app: TestApp| async move {
        use rand::{SeedableRng, seq::SliceRandom};
        registry(&app, 80).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 50, "secrecy-order").await;
        let mut members: Vec<i64> = drawn["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_i64().unwrap())
            .collect();
        // They answer one at a time, in an order that has nothing to do with the draw's,
        // each with a ballot of their own; every fourth on paper, keyed by two clerks.
        members.shuffle(&mut rand::rngs::StdRng::seed_from_u64(11));
        let clerk2 = {
            minping_app::accounts::add_user(
                &app.state,
                "clerk2",
                Role::Clerk,
                support::PASSWORD,
                None,
                &minping_storage::Actor::system(),
            )
            .await
            .unwrap();
            minping_app::accounts::issue_token(
                &app.state,
                "clerk2",
                &minping_storage::Actor::system(),
            )
            .await
            .unwrap()
            .token
        };
        let units: Vec<i64> = app
            .units
            .iter()
            .filter(|u| u.active)
            .map(|u| u.id.0)
            .collect();
        let respondents = &members[..40];
        let mut truth: BTreeMap<String, String> = BTreeMap::new();
        for (i, &m) in respondents.iter().enumerate() {
            let unit = units[i % units.len()];
            let tick = ["cold", "lazy", "shirking", "arbitrary"][i % 4];
            let content = json!({"code": code(round, m).as_str(), "nominations": [
                {"unit_id": unit, "indicators": [tick], "comment": format!("第{i}份意见")}
            ], "exposure": [unit]});
            let receipt = if i % 4 == 3 {
                for token in [app.token(Role::Clerk).to_string(), clerk2.clone()] {
                    let r = app
                        .client
                        .post(app.url(&format!("/api/v1/rounds/{round}/paper-entries")))
                        .bearer_auth(token)
                        .json(&content)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    let body: Value = r.json().await.unwrap();
                    assert_eq!(status, 201, "{body}");
                    if let Some(receipt) = body["receipt"].as_str() {
                        truth.insert(m.to_string(), receipt.to_string());
                    }
                }
                truth[&m.to_string()].clone()
            } else {
                let mut body = content.clone();
                body["channel"] = json!("directed");
                let (status, body) = send_ballot(&app, round, &body).await;
                assert_eq!(status, 201, "{body}");
                body["receipt"].as_str().unwrap().to_string()
            };
            truth.insert(m.to_string(), receipt);
        }
        assert_eq!(truth.len(), 40);

        // Every table that names a member's code, every order a reader could sort it by
        // (transaction id, physical place, rowid, or none: as stored); the same for the
        // tables holding the ballots. Lined up, they must pair no better than chance (one
        // right pair expected of 40; seven or more happen by chance about once in 10^5).
        let pg = app.pg.is_some();
        let member_tables = [
            ("panel_sample", "code_digest"),
            ("spent_codes", "code_digest"),
            ("paper_forms", "form_key"),
            ("paper_entries", "form_key"),
            ("code_conflicts", "code_digest"),
        ];
        // SQLite keeps a WITHOUT ROWID table in key order: it has no rowid to sort by.
        let without_rowid: BTreeSet<String> = if pg {
            BTreeSet::new()
        } else {
            raw::<(String, String)>(
                &app,
                "SELECT name, '' FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'",
            )
            .await
            .into_iter()
            .map(|(t, _)| t)
            .collect()
        };
        let orders = |table: &str| -> Vec<&'static str> {
            if pg {
                vec!["CAST(CAST(x.xmin AS TEXT) AS BIGINT)", "x.ctid", ""]
            } else if without_rowid.contains(table) {
                vec![""]
            } else {
                vec!["x.rowid", ""]
            }
        };
        let order_by = |o: &str| {
            if o.is_empty() {
                String::new()
            } else {
                format!(" ORDER BY {o}")
            }
        };
        let mut lined_up = 0;
        for (table, column) in member_tables {
            for mo in orders(table) {
                let member_side: Vec<(String, String)> = raw(
                    &app,
                    &format!(
                        "SELECT CAST(s.member_id AS TEXT), '' FROM {table} x \
                         JOIN panel_sample s ON s.code_digest = x.{column} \
                         WHERE s.round_id = {round}{}",
                        order_by(mo)
                    ),
                )
                .await;
                let answered: Vec<(String, String)> = member_side
                    .into_iter()
                    .filter(|(m, _)| truth.contains_key(m))
                    .collect();
                if answered.len() < 10 {
                    continue;
                }
                for (ballot_table, key) in [
                    ("ballots", "id"),
                    ("nominations", "ballot_id"),
                    ("exposures", "ballot_id"),
                ] {
                    for bo in orders(ballot_table) {
                        let ballot_side: Vec<(String, String)> = raw(
                            &app,
                            &format!(
                                "SELECT b.receipt, '' FROM {ballot_table} x JOIN ballots b ON b.id = x.{key} \
                                 WHERE b.round_id = {round} AND b.channel = 'directed'{}",
                                order_by(bo)
                            ),
                        )
                        .await;
                        let right = right_pairs(&answered, &ballot_side, &truth);
                        lined_up += 1;
                        assert!(
                            right < 7,
                            "{table} by {mo:?} against {ballot_table} by {bo:?} pairs {right} of 40 members with their ballots"
                        );
                    }
                }
            }
        }
        assert!(lined_up >= 6, "only {lined_up} orders compared");

        if pg {
            // A row written in the transaction that stored a ballot shares its xmin: the
            // candidates each ballot has that way must not single out its member.
            for (table, column) in member_tables {
                let pairs: Vec<(String, String)> = raw(
                    &app,
                    &format!(
                        "SELECT CAST(s.member_id AS TEXT), b.receipt FROM {table} x \
                         JOIN panel_sample s ON s.code_digest = x.{column} \
                         JOIN ballots b ON CAST(b.xmin AS TEXT) = CAST(x.xmin AS TEXT) \
                         WHERE s.round_id = {round} AND b.round_id = {round} AND b.channel = 'directed'"
                    ),
                )
                .await;
                let mut candidates: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for (m, r) in pairs {
                    candidates.entry(r).or_default().insert(m);
                }
                let expected_right: f64 = truth
                    .iter()
                    .filter_map(|(m, r)| {
                        let c = candidates.get(r)?;
                        c.contains(m).then(|| 1.0 / c.len() as f64)
                    })
                    .sum();
                assert!(
                    expected_right < 2.0,
                    "{table}.xmin = ballots.xmin finds {expected_right:.1} of 40 members: {candidates:?}"
                );
            }
        }

        // A second use of a code waits with its digest; counted, it keeps neither the digest
        // nor the content (the ballot holds that now).
        let (s, _) = directed(&app, round, code(round, respondents[0]).as_str()).await;
        assert_eq!(s, 409);
        let (s, c) =
            support::resolve_first_conflict(&app, round, true, "第一份为他人代填，本人确认第二份")
                .await;
        assert_eq!(
            (s.as_u16(), c["state"].as_str()),
            (200, Some("counted")),
            "{c}"
        );
        let counted: Vec<(String, String)> = raw(
            &app,
            "SELECT code_digest, content FROM code_conflicts WHERE state = 'counted'",
        )
        .await;
        assert_eq!(counted.len(), 1);
        assert!(counted[0].1.is_empty(), "{counted:?}");
        assert_ne!(counted[0].0, code(round, respondents[0]).digest(CODE_KEY));

        // A paper form keyed once and never agreed on keeps its code's digest beside its
        // content only while the round takes ballots.
        let late = members[45];
        let r = app
            .client
            .post(app.url(&format!("/api/v1/rounds/{round}/paper-entries")))
            .bearer_auth(app.token(Role::Clerk))
            .json(&json!({"code": code(round, late).as_str(), "nominations": [
                {"unit_id": app.units[0].id.0, "indicators": ["cold"], "comment": "未核对"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let pending = "SELECT CAST(COUNT(*) AS TEXT), '' FROM paper_entries";
        assert_eq!(raw::<(String, String)>(&app, pending).await[0].0, "1");
        let (s, closed) = support::transition(&app, round, "closed").await;
        assert_eq!(s, 200, "{closed}");
        assert_eq!(raw::<(String, String)>(&app, pending).await[0].0, "0");
        // Nothing left names a member's code beside a ballot's content.
        let beside: Vec<(String, String)> = raw(
            &app,
            "SELECT x.state, x.content FROM code_conflicts x \
             JOIN panel_sample s ON s.code_digest = x.code_digest WHERE x.state <> 'pending'",
        )
        .await;
        assert!(beside.is_empty(), "{beside:?}");
    }
);

both!(
    a_round_is_not_finalized_while_a_second_use_of_a_code_awaits_a_decision,
    |app: TestApp| async move {
        registry(&app, 10).await;
        let round = app.open_round;
        let drawn = draw(&app, round, 5, "pending").await;
        let member = drawn["members"][0].as_i64().unwrap();
        let c = code(round, member);
        assert_eq!(directed(&app, round, c.as_str()).await.0, 201);
        assert_eq!(directed(&app, round, c.as_str()).await.0, 409);
        let transition = |to: &'static str| support::transition(&app, round, to);
        assert_eq!(transition("closed").await.0, 200);
        // Pending, the conflict keeps the code's digest beside its content: the ranking
        // waits for the organizer's decision.
        let (s, body) = transition("finalized").await;
        assert_eq!(
            (s.as_u16(), body["error"]["code"].as_str()),
            (409, Some("pending_conflicts")),
            "{body}"
        );
        let (s, _) = support::resolve_first_conflict(&app, round, false, "同一人重复提交").await;
        assert_eq!(s, 200);
        assert_eq!(transition("finalized").await.0, 200);
        let linked: Vec<(String, String)> = raw(
            &app,
            "SELECT x.state, x.content FROM code_conflicts x \
             JOIN panel_sample s ON s.code_digest = x.code_digest",
        )
        .await;
        assert!(linked.is_empty(), "{linked:?}");
    }
);

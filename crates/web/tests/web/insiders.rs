//! Guarding against the people inside: the hash-chained audit log (and what tampering with
//! it directly in the database shows), four eyes on what decides careers, the organisation
//! frozen at close, and credentials with a life cycle.

use crate::support;

use minping_app::audit;
use minping_domain::{Role, audit::Broken};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, api, raw, tamper};

/// The audit log as the organizer reads it through the API, newest first.
async fn log(app: &TestApp, object: &str) -> Vec<Value> {
    let (status, page) = api(
        app,
        Some(Role::Organizer),
        Method::GET,
        &format!("/api/v1/audit?object={object}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["events"].as_array().unwrap().clone()
}

both!(
    staff_actions_are_logged_with_who_and_what_and_the_chain_verifies,
    |app: TestApp| async move {
        let (s, agency) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/agencies",
            Some(json!({"name": "区人力社保局"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, unit) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/units",
            Some(json!({"agency_id": agency["id"], "name": "养老保险科"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let unit_id = unit["id"].as_i64().unwrap();
        let (s, _) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/units/{unit_id}/active"),
            Some(json!({"active": false})),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);

        let events = log(&app, &format!("unit:{unit_id}")).await;
        let actions: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
            .collect();
        assert_eq!(
            actions,
            [("unit.retire", "organizer"), ("unit.create", "organizer")]
        );
        assert_eq!(events[0]["detail"]["before"]["active"], true);
        assert_eq!(events[0]["detail"]["after"]["active"], false);
        // A kind filter, and every event chained to the one before.
        let rounds = log(&app, "round:").await;
        assert!(
            rounds.iter().any(|e| e["action"] == "round.publish"
                && e["object"] == format!("round:{}", app.published_round)),
            "{rounds:?}"
        );
        let all = log(&app, "").await;
        for pair in all.windows(2) {
            assert_eq!(pair[0]["prev"], pair[1]["hash"]);
            assert_eq!(
                pair[0]["seq"].as_i64(),
                pair[1]["seq"].as_i64().map(|s| s + 1)
            );
        }
        let verified = audit::verify(&app.state).await.unwrap().unwrap();
        assert_eq!(verified.len as i64, all[0]["seq"].as_i64().unwrap());
        assert_eq!(
            verified.published.len(),
            1,
            "the published round's head is in it"
        );

        // The leader reads it too; the console shows it, filtered.
        let (s, _) = api(&app, Some(Role::Leader), Method::GET, "/api/v1/audit", None).await;
        assert_eq!(s, StatusCode::OK);
        let leader = support::signed_in(&app, Role::Leader).await;
        let (s, page) = support::get(
            &leader,
            &app,
            &format!("/console/audit?object=unit:{unit_id}"),
        )
        .await;
        assert_eq!(s, 200);
        assert!(
            page.contains("撤销科室") && !page.contains("公布结果"),
            "actions by name"
        );
        assert!(!page.contains("unit.retire"), "no action code shown");
    }
);

/// An audit row as stored, to put back after each tampering.
type Row = (
    i64,
    String,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn insert(r: &Row) -> String {
    format!(
        "INSERT INTO audit_events (seq, at, actor_id, actor, action, object, detail, prev, hash) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        r.0,
        quoted(&r.1),
        r.2.map_or("NULL".into(), |a| a.to_string()),
        quoted(&r.3),
        quoted(&r.4),
        quoted(&r.5),
        quoted(&r.6),
        quoted(&r.7),
        quoted(&r.8),
    )
}

both!(
    editing_removing_or_swapping_any_audit_row_in_the_database_is_named,
    |app: TestApp| async move {
        let rows: Vec<Row> = raw(
            &app,
            "SELECT seq, at, actor_id, actor, action, object, detail, prev, hash \
             FROM audit_events ORDER BY seq",
        )
        .await;
        let n = rows.len() as i64;
        assert!(n >= 10, "the district's history is logged: {n} events");
        assert!(audit::verify(&app.state).await.unwrap().is_ok());
        let restore = {
            let mut all = vec!["DELETE FROM audit_events".to_string()];
            all.extend(rows.iter().map(insert));
            all
        };
        let mid = n / 2;
        let cases: Vec<(String, Vec<String>, i64)> = vec![
            (
                "a detail changed".into(),
                vec![format!(
                    "UPDATE audit_events SET detail = '{{\"after\":\"nobody\"}}' WHERE seq = {mid}"
                )],
                mid,
            ),
            (
                "the actor changed".into(),
                vec![format!(
                    "UPDATE audit_events SET actor = 'someone else' WHERE seq = {mid}"
                )],
                mid,
            ),
            (
                "the first event removed".into(),
                vec!["DELETE FROM audit_events WHERE seq = 1".into()],
                1,
            ),
            (
                "an event in the middle removed".into(),
                vec![format!("DELETE FROM audit_events WHERE seq = {mid}")],
                mid,
            ),
            (
                "the last event removed".into(),
                vec![format!("DELETE FROM audit_events WHERE seq = {n}")],
                n,
            ),
            (
                "two events swapped".into(),
                vec![
                    format!("UPDATE audit_events SET seq = -1 WHERE seq = {mid}"),
                    format!(
                        "UPDATE audit_events SET seq = {mid} WHERE seq = {}",
                        mid + 1
                    ),
                    format!("UPDATE audit_events SET seq = {} WHERE seq = -1", mid + 1),
                ],
                mid,
            ),
            (
                "an event rewritten with a fresh hash".into(),
                {
                    let r = &rows[(mid - 1) as usize];
                    let detail = "{\"after\":\"nobody\"}";
                    let hash =
                        minping_domain::audit::hash(&r.7, r.0, &r.1, r.2, &r.3, &r.4, &r.5, detail);
                    vec![format!(
                        "UPDATE audit_events SET detail = {}, hash = {} WHERE seq = {mid}",
                        quoted(detail),
                        quoted(&hash)
                    )]
                },
                mid + 1,
            ),
        ];
        for (what, statements, named) in cases {
            let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
            tamper(&app, &statements).await;
            let broken = audit::verify(&app.state).await.unwrap().expect_err(&what);
            assert_eq!(broken.seq(), Some(named), "{what}: {broken}");
            assert!(
                broken.to_string().contains(&format!("#{named}")),
                "{what}: {broken}"
            );
            let restore: Vec<&str> = restore.iter().map(String::as_str).collect();
            tamper(&app, &restore).await;
            assert!(
                audit::verify(&app.state).await.unwrap().is_ok(),
                "restored after {what}"
            );
        }

        // A whole chain recomputed from an edited event on no longer holds the head its
        // published round printed.
        let mut rewritten = rows.clone();
        let mut prev = minping_domain::audit::GENESIS.to_string();
        for r in &mut rewritten {
            if r.0 == 2 {
                r.6 = "{\"after\":\"nobody\"}".into();
            }
            r.7 = prev.clone();
            r.8 = minping_domain::audit::hash(&r.7, r.0, &r.1, r.2, &r.3, &r.4, &r.5, &r.6);
            prev = r.8.clone();
        }
        let mut statements = vec!["DELETE FROM audit_events".to_string()];
        statements.extend(rewritten.iter().map(insert));
        statements.push(format!(
            "UPDATE audit_head SET hash = {} WHERE id = 1",
            quoted(&prev)
        ));
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        tamper(&app, &statements).await;
        assert!(matches!(
            audit::verify(&app.state).await.unwrap(),
            Err(Broken::Unpublished { .. })
        ));
    }
);

both!(
    the_published_head_is_on_the_round_page_and_in_its_notice,
    |app: TestApp| async move {
        let head = app
            .store
            .published_head(app.published_round)
            .await
            .unwrap()
            .expect("a published round records the head");
        let (_, page) = support::get(
            &app.client,
            &app,
            &format!("/rounds/{}/results", app.published_round),
        )
        .await;
        assert!(support::text_of(&page, "audit-head").contains(&head.hash));
        let pdf = app
            .client
            .get(app.url(&format!(
                "/api/v1/rounds/{}/notice.pdf",
                app.published_round
            )))
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text: String = support::pdf_text(&pdf)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(
            text.contains(&head.hash),
            "the notice prints the head {}: {}",
            head.hash,
            text.chars()
                .rev()
                .take(300)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        );
    }
);

/// Keys in a hotline report as `token`; its id.
async fn hotline(app: &TestApp, token: &str, unit: &str) -> i64 {
    let r = app
        .client
        .post(app.url("/api/v1/reports/intake"))
        .bearer_auth(token)
        .json(&json!({
            "source": "hotline",
            "unit_id": app.unit(unit).0,
            "description": "来电反映：窗口人员暗示送礼才能加快办理。",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    app.store.reports(None).await.unwrap()[0].id
}

/// Moves report `id` to `to` as `token`: the status and the error code, if any.
async fn step(app: &TestApp, token: &str, id: i64, to: &str) -> (u16, Option<String>) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/reports/{id}/transition")))
        .bearer_auth(token)
        .json(&json!({"to": to, "reason": "核查", "action": "诫勉谈话"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or_default();
    (status, body["error"]["code"].as_str().map(String::from))
}

both!(
    a_report_is_substantiated_by_a_second_investigator,
    |app: TestApp| async move {
        let first = app.token(Role::Investigator).to_string();
        let second = app.investigator2.clone();
        let refused = (409, Some("second_person_required".to_string()));
        // Keyed in and opened by one investigator: not substantiated by the same.
        let id = hotline(&app, &first, "企业注册科").await;
        assert_eq!(step(&app, &first, id, "investigating").await.0, 204);
        assert_eq!(step(&app, &first, id, "substantiated").await, refused);
        assert_eq!(
            app.store
                .report(id)
                .await
                .unwrap()
                .unwrap()
                .state
                .to_string(),
            "investigating",
            "nothing changed"
        );
        assert_eq!(step(&app, &second, id, "substantiated").await.0, 204);
        // Keyed in by one and opened by the other: neither substantiates it.
        let id = hotline(&app, &second, "规划许可科").await;
        assert_eq!(step(&app, &first, id, "investigating").await.0, 204);
        assert_eq!(step(&app, &second, id, "substantiated").await, refused);
        assert_eq!(step(&app, &first, id, "substantiated").await, refused);
        // Closing a report without substantiating it moves no career: one person may.
        assert_eq!(step(&app, &first, id, "unsubstantiated").await.0, 204);

        let events = log(&app, "report:").await;
        let steps: Vec<(String, String, String)> = events
            .iter()
            .map(|e| {
                (
                    e["object"].as_str().unwrap().to_string(),
                    e["action"].as_str().unwrap().to_string(),
                    e["actor"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let first_id = id - 1;
        assert!(steps.contains(&(
            format!("report:{first_id}"),
            "report.step".into(),
            "investigator2".into()
        )));
        assert!(steps.contains(&(
            format!("report:{id}"),
            "report.intake".into(),
            "investigator2".into()
        )));
    }
);

/// Registers six members, draws four of them for the open round and mails their forms, as
/// the organizer.
async fn drawn_and_mailed(app: &TestApp) {
    let round = app.open_round;
    let members: Vec<minping_domain::panel::NewMember> = (0..6)
        .map(|i| minping_domain::panel::NewMember {
            name: format!("成员{i}"),
            group: "individual".into(),
            address: format!("南川区东城街道{i}号"),
            postcode: "408400".into(),
            phone: format!("1380000{i:04}"),
            units: Vec::new(),
            source: "test".into(),
            added_on: app.state.today(),
        })
        .collect();
    app.store
        .add_members(&members, &minping_storage::Actor::system(), app.state.now())
        .await
        .unwrap();
    for (path, body) in [
        (
            format!("/api/v1/rounds/{round}/panel/frame"),
            json!({"sample_size": 4}),
        ),
        (
            format!("/api/v1/rounds/{round}/panel/draw"),
            json!({"seed": "2026-10-08 双色球 01 05 12"}),
        ),
        (
            format!("/api/v1/rounds/{round}/panel/mail-status"),
            json!({"all_drawn": true, "status": "mailed"}),
        ),
    ] {
        let (s, b) = api(app, Some(Role::Organizer), Method::POST, &path, Some(body)).await;
        assert!(s.is_success(), "{path}: {b}");
    }
}

both!(
    reprinting_mailed_codes_takes_a_second_organizer_and_blocks_the_nonrespondent_list,
    |app: TestApp| async move {
        drawn_and_mailed(&app).await;
        let round = app.open_round;
        let forms = format!("/api/v1/rounds/{round}/panel/forms.pdf");
        let nonrespondents = format!("/api/v1/rounds/{round}/panel/nonrespondents");
        let get = |path: String, token: String| {
            let app = &app;
            async move {
                let r = app
                    .client
                    .get(app.url(&path))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                (status, r.bytes().await.unwrap())
            }
        };
        let organizer = app.token(Role::Organizer).to_string();
        let (s, body) = get(forms.clone(), organizer.clone()).await;
        assert_eq!(s, 409, "{}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("reprint_not_approved"));
        assert_eq!(get(nonrespondents.clone(), organizer.clone()).await.0, 200);

        let (s, asked) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{round}/reprints"),
            Some(json!({"reason": "邮局退回4份，地址有误"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{asked}");
        let reprint = asked["id"].as_i64().unwrap();
        let (s, e) = get(nonrespondents.clone(), organizer.clone()).await;
        assert_eq!(s, 409);
        assert!(String::from_utf8_lossy(&e).contains("reprint_pending"));
        // The organizer who asked cannot approve it.
        let (s, e) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/reprints/{reprint}/decision"),
            Some(json!({"approve": true})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        // A second organizer does; the approval prints once.
        minping_app::accounts::add_user(
            &app.state,
            "organizer2",
            Role::Organizer,
            support::PASSWORD,
            None,
            &minping_storage::Actor::system(),
        )
        .await
        .unwrap();
        let second = minping_app::accounts::issue_token(
            &app.state,
            "organizer2",
            &minping_storage::Actor::system(),
        )
        .await
        .unwrap()
        .token;
        let r = app
            .client
            .post(app.url(&format!("/api/v1/reprints/{reprint}/decision")))
            .bearer_auth(&second)
            .json(&json!({"approve": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let (s, pdf) = get(forms.clone(), organizer.clone()).await;
        assert_eq!(s, 200);
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(get(forms.clone(), organizer.clone()).await.0, 409, "once");
        assert_eq!(
            get(nonrespondents, organizer).await.0,
            200,
            "printed: the list again"
        );
        let actions: Vec<String> = log(&app, &format!("round:{round}"))
            .await
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect();
        assert!(
            actions.contains(&"forms.reprint".to_string())
                && actions.contains(&"panel.nonrespondents".to_string())
                && actions.contains(&"mailing.record".to_string()),
            "{actions:?}"
        );
        let reprints = log(&app, &format!("reprint:{reprint}")).await;
        assert_eq!(
            reprints
                .iter()
                .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
                .collect::<Vec<_>>(),
            [
                ("reprint.approve", "organizer2"),
                ("reprint.ask", "organizer")
            ]
        );
    }
);

both!(
    the_organisation_a_round_closed_with_is_the_one_its_sanctions_fall_on,
    |app: TestApp| async move {
        // 不动产登记中心 has a head (吴小琴, since 2019); the open round names it, and closes.
        let round = app.open_round;
        let unit = app.unit("不动产登记中心");
        let ballot = json!({"channel": "open", "nominations": [{"unit_id": unit.0, "indicators": ["cold"]}]});
        let (s, _) = api(
            &app,
            None,
            Method::POST,
            &format!("/api/v1/rounds/{round}/ballots"),
            Some(ballot),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(support::transition(&app, round, "closed").await.0, 200);
        // After the close, someone back-dates a new head into the quarter.
        let (_, person) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/people",
            Some(json!({"name": "替罪羊"})),
        )
        .await;
        let period_start = app
            .store
            .round(round)
            .await
            .unwrap()
            .unwrap()
            .period
            .start();
        let (s, _) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            "/api/v1/posts",
            Some(json!({
                "person_id": person["id"],
                "unit_id": unit.0,
                "role": "head",
                "start": period_start,
            })),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(support::transition(&app, round, "finalized").await.0, 200);
        let people = app.store.people().await.unwrap();
        let named: Vec<String> = app
            .store
            .sanctions(round)
            .await
            .unwrap()
            .iter()
            .filter(|s| s.proposal.unit_id == unit)
            .map(|s| {
                people
                    .iter()
                    .find(|p| p.id == s.proposal.person_id)
                    .unwrap()
                    .name
                    .clone()
            })
            .collect();
        assert!(!named.is_empty(), "the listed unit's head gets a proposal");
        assert!(
            named.iter().all(|n| n == "吴小琴"),
            "the head as the round closed, not the back-dated one: {named:?}"
        );
        // And the back-dating is on the record.
        let posts = log(&app, "post:").await;
        assert_eq!(posts[0]["actor"], "organizer");
        assert_eq!(posts[0]["detail"]["start"], period_start.to_string());
    }
);

both!(
    a_revoked_expired_or_disabled_credential_answers_401_at_once,
    |app: TestApp| async move {
        let me = |token: String| {
            let app = &app;
            async move {
                app.client
                    .get(app.url("/api/v1/me"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        let clerk = app.token(Role::Clerk).to_string();
        assert_eq!(me(clerk.clone()).await, 200);
        let sys = minping_storage::Actor::system();
        let tokens = minping_app::accounts::tokens(&app.state, Some("clerk"))
            .await
            .unwrap();
        assert_eq!(tokens.len(), 1);
        let days = (tokens[0].expires_at - tokens[0].created_at).num_days();
        assert_eq!(days, 90, "tokens expire after 90 days");
        assert_eq!(
            minping_app::accounts::revoke_tokens(&app.state, "clerk", None, &sys)
                .await
                .unwrap(),
            1
        );
        assert_eq!(me(clerk).await, 401, "revoked");

        // A token past its expiry.
        let user = app.store.user_by_name("inspector").await.unwrap().unwrap();
        let stale = "mp_stale_token_for_the_test";
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(stale.as_bytes()));
        let past = app.state.now() - chrono::Duration::days(1);
        app.store
            .add_token(
                user.id,
                &hash,
                past,
                &sys,
                past - chrono::Duration::days(90),
            )
            .await
            .unwrap();
        assert_eq!(me(stale.to_string()).await, 401, "expired");

        // Disabling ends the sessions and the tokens at once, and sign-in with it.
        let browser = support::signed_in(&app, Role::Leader).await;
        assert_eq!(support::get(&browser, &app, "/console").await.0, 200);
        let leader = app.token(Role::Leader).to_string();
        minping_app::accounts::set_disabled(&app.state, "leader", true, &sys)
            .await
            .unwrap();
        assert_eq!(me(leader.clone()).await, 401);
        let (status, _) = support::get(&browser, &app, "/console").await;
        assert_eq!(status, 303, "the session no longer signs in");
        let c = support::client();
        let (_, login) = support::get(&c, &app, "/login").await;
        let (status, _, _) = support::post(
            &c,
            &app,
            &login,
            "/login",
            &[("name", "leader"), ("password", support::PASSWORD)],
        )
        .await;
        assert_eq!(status, 401);
        minping_app::accounts::set_disabled(&app.state, "leader", false, &sys)
            .await
            .unwrap();
        assert_eq!(me(leader).await, 200, "enabled again");

        // A new password ends the sessions signed in before it; the old one no longer
        // signs in.
        let before = support::signed_in(&app, Role::Leader).await;
        assert_eq!(support::get(&before, &app, "/console").await.0, 200);
        minping_app::accounts::set_password(&app.state, "leader", "a new long password", &sys)
            .await
            .unwrap();
        assert_eq!(support::get(&before, &app, "/console").await.0, 303);
        let (status, _, _) = support::post(
            &c,
            &app,
            &login,
            "/login",
            &[("name", "leader"), ("password", support::PASSWORD)],
        )
        .await;
        assert_eq!(status, 401);
        let users = log(&app, "user:").await;
        let kinds: Vec<&str> = users
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for k in [
            "user.passwd",
            "user.enable",
            "user.disable",
            "token.revoke",
            "token.issue",
        ] {
            assert!(kinds.contains(&k), "{k} logged: {kinds:?}");
        }
        assert!(
            !serde_json::to_string(&users).unwrap().contains("argon2"),
            "no password hash in the log"
        );
    }
);

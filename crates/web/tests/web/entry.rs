//! Blind double entry of returned paper forms, on SQLite and on PostgreSQL: two clerks key
//! each form, it counts only when both agree, and the organizer adjudicates the rest.

use crate::support;

use chrono::{NaiveDate, Utc};
use minping_domain::{Channel, Role, code::OneTimeCode, panel::NewMember};
use minping_storage::Actor;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{CODE_KEY, TestApp, form_token};

/// Draws `n` members for the open round; their codes, as printed on their forms.
async fn draw(app: &TestApp, n: usize) -> Vec<OneTimeCode> {
    let members: Vec<NewMember> = (0..n)
        .map(|i| NewMember {
            name: format!("成员{i}"),
            group: "individual".into(),
            address: format!("南川区东城街道{i}号"),
            postcode: "408400".into(),
            phone: format!("1380000{i:04}"),
            units: vec![],
            source: "test".into(),
            added_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        })
        .collect();
    let ids: Vec<i64> = app
        .store
        .add_members(
            &members,
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
    let round = app.open_round;
    app.store
        .freeze_frame(
            round,
            "frame",
            "hash",
            n as i64,
            &minping_storage::Actor::system(),
            Utc::now(),
        )
        .await
        .unwrap();
    let codes: Vec<OneTimeCode> = ids
        .iter()
        .map(|id| OneTimeCode::derive(CODE_KEY, round.0, *id))
        .collect();
    let sample: Vec<(i64, String, String)> = ids
        .iter()
        .zip(&codes)
        .map(|(id, c)| (*id, "individual".to_string(), c.digest(CODE_KEY)))
        .collect();
    app.store
        .record_draw(
            round,
            "20261001",
            "{}",
            &sample,
            &Actor::system(),
            Utc::now(),
        )
        .await
        .unwrap();
    codes
}

/// A second clerk's API token (the fixture has one account per role).
async fn second_clerk(app: &TestApp) -> String {
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
    minping_app::accounts::issue_token(&app.state, "clerk2", &minping_storage::Actor::system())
        .await
        .unwrap()
        .token
}

async fn key(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{}/paper-entries", app.open_round)))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn digest(code: &OneTimeCode) -> String {
    code.digest(CODE_KEY)
}

async fn ballots(app: &TestApp) -> u64 {
    app.store.ballot_count(app.open_round).await.unwrap()
}

async fn code_state(app: &TestApp, code: &OneTimeCode) -> Option<bool> {
    app.store
        .code_state(app.open_round, &digest(code))
        .await
        .unwrap()
}

both!(
    two_clerks_who_agree_count_the_ballot_and_spend_the_code,
    |app: TestApp| async move {
        let codes = draw(&app, 3).await;
        let clerk2 = second_clerk(&app).await;
        let (office, registry) = (app.units[0].id.0, app.units[2].id.0);
        let before = ballots(&app).await;
        // As typed from the paper: lower case, spaces instead of dashes.
        let typed = codes[0].printed().to_lowercase().replace('-', " ");
        let first = json!({"code": typed, "nominations": [
            {"unit_id": office, "indicators": ["cold", "greedy"], "comment": "要求请吃饭"},
            {"unit_id": registry, "indicators": ["shirking"]},
        ], "exposure": [registry, office]});
        let (status, body) = key(&app, app.token(Role::Clerk), &first).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "first_entry");
        assert!(body.get("receipt").is_none());
        assert_eq!(ballots(&app).await, before, "one entry counts nothing");
        assert_eq!(code_state(&app, &codes[0]).await, Some(false));

        // The same content in another order, indicators swapped, comment padded.
        let second = json!({"code": codes[0].as_str(), "nominations": [
            {"unit_id": registry, "indicators": ["shirking"], "comment": "  "},
            {"unit_id": office, "indicators": ["greedy", "cold"], "comment": " 要求请吃饭 "},
        ], "exposure": [office, registry]});
        let (status, body) = key(&app, &clerk2, &second).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "counted");
        let receipt = body["receipt"].as_str().unwrap();
        let stored = app.store.ballot_by_receipt(receipt).await.unwrap().unwrap();
        assert_eq!(stored.ballot.channel, Channel::Directed);
        assert_eq!(stored.ballot.nominations.len(), 2);
        assert_eq!(stored.ballot.exposure.len(), 2);
        assert_eq!(ballots(&app).await, before + 1);
        assert_eq!(code_state(&app, &codes[0]).await, Some(true));
        let key_digest = digest(&codes[0]);
        assert!(
            app.store
                .paper_entries(app.open_round, &key_digest)
                .await
                .unwrap()
                .is_empty(),
            "the entries are gone once the ballot holds what was agreed"
        );
        assert_eq!(
            app.store
                .paper_outcome(app.open_round, &key_digest)
                .await
                .unwrap()
                .as_deref(),
            Some("counted")
        );

        // A third entry after the decision is refused and counts nothing.
        let (status, body) = key(&app, app.token(Role::Organizer), &second).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "form_already_decided");
        assert_eq!(ballots(&app).await, before + 1);
    }
);

both!(
    two_clerks_who_disagree_count_nothing_until_the_organizer_decides,
    |app: TestApp| async move {
        let codes = draw(&app, 2).await;
        let clerk2 = second_clerk(&app).await;
        let office = app.units[0].id.0;
        let before = ballots(&app).await;
        let code = codes[1].printed();
        let (_, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"code": code, "nominations": [{"unit_id": office, "indicators": ["cold"]}]}),
        )
        .await;
        assert_eq!(body["status"], "first_entry");
        let (status, body) = key(
            &app,
            &clerk2,
            &json!({"code": code, "nominations": [{"unit_id": office, "indicators": ["lazy"]}]}),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(body["status"], "disputed");
        assert!(body.get("receipt").is_none());
        assert_eq!(ballots(&app).await, before, "a disagreement never counts");
        assert_eq!(code_state(&app, &codes[1]).await, Some(false));

        // A third keying does not settle it: the organizer does.
        let (status, body) = key(
            &app,
            app.token(Role::Organizer),
            &json!({"code": code, "nominations": [{"unit_id": office, "indicators": ["cold"]}]}),
        )
        .await;
        assert_eq!(status, 409);
        assert_eq!(body["error"]["code"], "awaiting_adjudication");
        assert_eq!(ballots(&app).await, before);

        let url = app.url(&format!("/api/v1/rounds/{}/adjudication", app.open_round));
        let r = app
            .client
            .get(&url)
            .bearer_auth(app.token(Role::Clerk))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "clerks never see the entries");
        let queue: Value = app
            .client
            .get(&url)
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(queue["forms"].as_array().unwrap().len(), 1, "{queue}");
        let form = &queue["forms"][0];
        assert_eq!(form["channel"], "directed");
        assert_eq!(form["agree"], false);
        assert_eq!(form["entries"][0]["clerk"], "clerk");
        assert_eq!(
            form["entries"][0]["nominations"][0]["indicators"],
            json!(["cold"])
        );
        assert_eq!(form["entries"][1]["clerk"], "clerk2");
        assert_eq!(
            form["entries"][1]["nominations"][0]["indicators"],
            json!(["lazy"])
        );

        // The organizer sees both entries side by side and decides with the paper in hand.
        let c = support::client();
        let page_url = app.url(&format!(
            "/console/rounds/{}/adjudication?lang=zh",
            app.open_round
        ));
        let r = c
            .get(&page_url)
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("clerk2") && html.contains("冷") && html.contains("懒"));
        assert!(
            html.contains(&code),
            "the organizer finds the form by its printed code"
        );
        assert!(
            html.contains("class=\"differs\""),
            "the difference is highlighted"
        );
        let decide = |text: &str| {
            serde_urlencoded::to_string([
                ("_csrf", form_token(&html)),
                ("key", digest(&codes[1])),
                ("action", "count".into()),
                ("text", text.into()),
            ])
            .unwrap()
        };
        let post = |body: String| {
            c.post(app.url(&format!("/console/rounds/{}/adjudication", app.open_round)))
                .bearer_auth(app.token(Role::Organizer))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        // A mistake in the final content comes back in place, nothing lost.
        let r = post(decide(&format!("{office} 冷x 态度差"))).await.unwrap();
        assert_eq!(r.status(), 422);
        let again = r.text().await.unwrap();
        assert!(again.contains("第1行") && again.contains(&format!("{office} 冷x 态度差")));
        assert_eq!(ballots(&app).await, before);

        let r = post(decide(&format!("{office} 冷懒 态度差")))
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(matches!(
            support::flash_as(&c, &app, &location, Some(app.token(Role::Organizer))).await,
            Some(Ok(_))
        ));
        assert_eq!(ballots(&app).await, before + 1, "counted once");
        assert_eq!(code_state(&app, &codes[1]).await, Some(true));
        assert!(
            app.store
                .disputed_forms(app.open_round)
                .await
                .unwrap()
                .is_empty()
        );

        // Deciding again changes nothing.
        let r = post(decide(&format!("{office} 冷"))).await.unwrap();
        assert_eq!(r.status(), 422);
        assert_eq!(ballots(&app).await, before + 1);
    }
);

both!(
    a_clerk_cannot_key_the_same_form_twice,
    |app: TestApp| async move {
        let codes = draw(&app, 1).await;
        let body = json!({"code": codes[0].printed(), "nominations": [{"unit_id": app.units[1].id.0, "indicators": ["arbitrary"]}]});
        let (status, _) = key(&app, app.token(Role::Clerk), &body).await;
        assert_eq!(status, 201);
        let (status, refused) = key(&app, app.token(Role::Clerk), &body).await;
        assert_eq!(status, 409);
        assert_eq!(refused["error"]["code"], "already_keyed_by_you");
        assert_eq!(
            app.store
                .paper_entries(app.open_round, &digest(&codes[0]))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(code_state(&app, &codes[0]).await, Some(false));
    }
);

both!(
    a_mistyped_or_unknown_code_is_refused_before_anything_is_stored,
    |app: TestApp| async move {
        let codes = draw(&app, 1).await;
        let printed = codes[0].as_str().to_string();
        // One character changed: the check character catches it.
        let last = printed.chars().last().unwrap();
        let typo = format!(
            "{}{}",
            &printed[..printed.len() - 1],
            if last == 'A' { 'B' } else { 'A' }
        );
        let nominations = json!([{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]);
        let (status, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"code": typo, "nominations": nominations}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "code_invalid");
        assert_eq!(body["error"]["field"], "code");
        // Well formed, but nobody drawn for this round has it.
        let stranger = OneTimeCode::derive(CODE_KEY, app.open_round.0, 999_999);
        let (status, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"code": stranger.printed(), "nominations": nominations}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "code_invalid");
        // Neither a code nor a number.
        let (status, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"nominations": nominations}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "form_required");
        // A bad ballot on a good code.
        let (status, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"code": printed, "nominations": [{"unit_id": 9999, "indicators": ["cold"]}]}),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "unknown_unit");
        assert!(
            app.store
                .forms_awaiting_second_entry(app.open_round)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

both!(
    an_open_channel_form_keyed_twice_counts_once_and_never_twice,
    |app: TestApp| async move {
        let clerk2 = second_clerk(&app).await;
        let before = ballots(&app).await;
        let nominations = json!([{"unit_id": app.units[3].id.0, "indicators": ["lazy", "greedy"], "comment": "收了红包才办"}]);
        let (_, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"form_number": " n-0001 ", "nominations": nominations}),
        )
        .await;
        assert_eq!(body["status"], "first_entry");
        let (status, body) = key(
            &app,
            &clerk2,
            &json!({"form_number": "N-0001", "nominations": nominations}),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(body["status"], "counted");
        let stored = app
            .store
            .ballot_by_receipt(body["receipt"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.ballot.channel, Channel::Open);
        assert_eq!(ballots(&app).await, before + 1);
        for token in [
            app.token(Role::Clerk),
            clerk2.as_str(),
            app.token(Role::Organizer),
        ] {
            let (status, body) = key(
                &app,
                token,
                &json!({"form_number": "N-0001", "nominations": nominations}),
            )
            .await;
            assert_eq!(status, 409);
            assert_eq!(body["error"]["code"], "form_already_decided");
        }
        assert_eq!(ballots(&app).await, before + 1, "never twice");
        let (_, body) = key(
            &app,
            app.token(Role::Clerk),
            &json!({"form_number": "N-0002", "nominations": nominations}),
        )
        .await;
        assert_eq!(
            body["status"], "first_entry",
            "another number is another form"
        );
    }
);

both!(
    a_paper_form_whose_code_was_used_online_goes_to_the_conflict_queue,
    |app: TestApp| async move {
        let codes = draw(&app, 1).await;
        let clerk2 = second_clerk(&app).await;
        let nominations = json!([{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]);
        let online = app
            .client
            .post(app.url(&format!("/api/v1/rounds/{}/ballots", app.open_round)))
            .json(&json!({"channel": "directed", "code": codes[0].as_str(), "nominations": nominations}))
            .send()
            .await
            .unwrap();
        assert_eq!(online.status(), 201);
        let before = ballots(&app).await;
        let body = json!({"code": codes[0].printed(), "nominations": nominations});
        let (status, first) = key(&app, app.token(Role::Clerk), &body).await;
        assert_eq!(
            status, 201,
            "a spent code is still keyable: the paper form must not be lost"
        );
        assert_eq!(first["status"], "first_entry");
        let (status, second) = key(&app, &clerk2, &body).await;
        assert_eq!(status, 201);
        assert_eq!(second["status"], "conflict");
        assert!(second.get("receipt").is_none());
        assert_eq!(ballots(&app).await, before, "not counted");
        let conflicts = app.store.conflicts(app.open_round).await.unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].state, "pending");
        assert_eq!(conflicts[0].response, minping_storage::Response::Paper);
        assert_eq!(
            app.store
                .paper_outcome(app.open_round, &digest(&codes[0]))
                .await
                .unwrap()
                .as_deref(),
            Some("conflict")
        );
        let (status, _) = key(&app, app.token(Role::Organizer), &body).await;
        assert_eq!(status, 409);
    }
);

both!(
    only_clerks_and_the_organizer_may_key_forms,
    |app: TestApp| async move {
        let body = json!({"form_number": "N-0009", "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]});
        for role in [
            Role::Unit,
            Role::Leader,
            Role::Investigator,
            Role::Inspector,
        ] {
            let (status, refused) = key(&app, app.token(role), &body).await;
            assert_eq!(status, 403, "{role:?}");
            assert_eq!(refused["error"]["code"], "forbidden");
            let r = support::client()
                .get(app.url(&format!("/entry/{}", app.open_round)))
                .bearer_auth(app.token(role))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{role:?}");
        }
        let r = app
            .client
            .post(app.url(&format!("/api/v1/rounds/{}/paper-entries", app.open_round)))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            app.store
                .forms_awaiting_second_entry(app.open_round)
                .await
                .unwrap()
                .is_empty()
        );
        // The organizer may key; the organizer alone adjudicates.
        let (status, _) = key(&app, app.token(Role::Organizer), &body).await;
        assert_eq!(status, 201);
        let r = support::client()
            .get(app.url(&format!("/console/rounds/{}/adjudication", app.open_round)))
            .bearer_auth(app.token(Role::Clerk))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
);

/// A clerk at the keying screen, as a browser without JavaScript.
struct Screen<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    token: String,
}

impl Screen<'_> {
    fn path(&self) -> String {
        format!("/entry/{}", self.app.open_round)
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .client
            .get(self.app.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Keys one form; on success follows the redirect back to the empty screen.
    async fn key(&self, kind: &str, form: &str, text: &str) -> (StatusCode, String) {
        let (_, html) = self.get(&format!("{}?lang=zh", self.path())).await;
        let body = serde_urlencoded::to_string([
            ("_csrf", form_token(&html).as_str()),
            ("kind", kind),
            ("key", form),
            ("text", text),
        ])
        .unwrap();
        let r = self
            .client
            .post(self.app.url(&self.path()))
            .bearer_auth(&self.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            let location = r.headers()["location"].to_str().unwrap().to_string();
            assert!(location.starts_with(&self.path()), "{location}");
            return self.get(&location).await;
        }
        (r.status(), r.text().await.unwrap())
    }
}

both!(
    clerks_key_a_stack_of_forms_on_the_screen_without_javascript,
    |app: TestApp| async move {
        let codes = draw(&app, 3).await;
        let clerk2 = second_clerk(&app).await;
        let one = Screen {
            app: &app,
            client: support::client(),
            token: app.token(Role::Clerk).to_string(),
        };
        let two = Screen {
            app: &app,
            client: support::client(),
            token: clerk2,
        };
        let (office, registry, food) = (app.units[0].id.0, app.units[2].id.0, app.units[3].id.0);
        let before = ballots(&app).await;

        // The way in leads to the open round's screen.
        let r = one
            .client
            .get(app.url("/entry"))
            .bearer_auth(&one.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], one.path().as_str());
        let (status, empty) = one.get(&format!("{}?lang=zh", one.path())).await;
        assert_eq!(status, 200);
        assert!(empty.contains("id=\"key\"") && empty.contains(" autofocus"));
        assert!(empty.contains("不动产登记中心") && empty.contains(&format!("<b>{food}</b>")));
        assert!(
            empty.contains("<kbd>c / 冷</kbd>"),
            "the indicator keys are shown"
        );
        assert!(
            !empty.contains("已撤销的科"),
            "retired units are not offered"
        );

        // First form: an error in the lines comes back in place with everything typed.
        let text =
            format!("{office} 冷贪 收了购物卡才办\n{registry} 推x\n办过事: {office} {registry}");
        let (status, refused) = one.key("directed", &codes[0].printed(), &text).await;
        assert_eq!(status, 422);
        assert!(refused.contains("第2行"), "the bad line is named");
        assert!(refused.contains("收了购物卡才办") && refused.contains(&codes[0].printed()));
        let text =
            format!("{office} 冷贪 收了购物卡才办\n{registry} 推\n办过事: {office} {registry}");
        let (status, saved) = one.key("directed", &codes[0].printed(), &text).await;
        assert_eq!(status, 200);
        assert!(saved.contains("第1次录入已保存"), "{saved}");
        assert!(
            !saved.contains("收了购物卡才办"),
            "the screen comes back empty"
        );

        // Second form, an open-channel one; the choice stays for the next form.
        let (_, saved) = one.key("open", "n-0007", &format!("{food} l")).await;
        assert!(saved.contains("N-0007") && saved.contains("第1次录入已保存"));
        assert!(saved.contains("value=\"open\" checked"));

        // Keying the same form again is refused with a clear message.
        let (status, refused) = one.key("directed", &codes[0].printed(), &text).await;
        assert_eq!(status, 409);
        assert!(refused.contains("另一名录入员"));

        // The second clerk never sees the first entry, and keys in letters in another order.
        let (_, screen) = two.get(&format!("{}?lang=zh", two.path())).await;
        assert!(!screen.contains("收了购物卡才办") && !screen.contains("N-0007"));
        let (_, counted) = two
            .key(
                "directed",
                codes[0].as_str(),
                &format!("E: {registry} {office}\n{registry} s\n{office} gc  收了购物卡才办"),
            )
            .await;
        assert!(counted.contains("两次录入一致，已计入"), "{counted}");
        assert_eq!(code_state(&app, &codes[0]).await, Some(true));
        let (_, disputed) = two.key("open", "N-0007", &format!("{food} a")).await;
        assert!(disputed.contains("两次录入不一致，已提交裁定"));
        assert_eq!(ballots(&app).await, before + 1);

        // A typo in a code is caught at once.
        let mut typo = codes[2].as_str().to_string();
        typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
        let (status, refused) = two.key("directed", &typo, &format!("{food} l")).await;
        assert_eq!(status, 422);
        assert!(refused.contains("校验位"), "{refused}");
        assert!(refused.contains(&format!("{food} l")));
    }
);

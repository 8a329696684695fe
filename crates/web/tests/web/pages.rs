//! The pages people use, driven over HTTP as a browser without JavaScript would.

use crate::support;

use minping_domain::Role;
use support::{TestApp, form_token};

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let r = client.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

both!(
    the_public_pages_show_the_open_round_and_published_results,
    |app: TestApp| async move {
        let c = support::client();
        let (status, home) = get(&app, &c, "/?lang=zh").await;
        assert_eq!(status, 200);
        assert!(home.contains("2026年第4季度"), "open round is announced");
        assert!(home.contains(&format!("/rounds/{}/ballot", app.open_round)));
        assert!(home.contains("不动产登记中心"), "latest top list is shown");
        assert!(
            home.contains("评优")
                && home.contains("开门评")
                && home.contains("具体评")
                && home.contains("评完没完")
        );
        let (_, results) = get(
            &app,
            &c,
            &format!("/rounds/{}/results", app.published_round),
        )
        .await;
        assert!(results.contains("企业注册科") && results.contains("区市场监管局"));
        let (status, _) = get(&app, &c, &format!("/rounds/{}/results", app.closed_round)).await;
        assert_eq!(
            status, 404,
            "an unpublished round has no public results page"
        );
        let (_, list) = get(&app, &c, "/results").await;
        assert!(list.contains("2026年第2季度") && !list.contains("2026年第3季度"));
        let (_, method) = get(&app, &c, "/method?lang=en").await;
        assert!(method.contains("share a rank") && method.contains("Greedy"));
        let (_, english_home) = get(&app, &c, "/").await;
        assert!(
            english_home.contains("Fill in the form"),
            "the language choice is remembered"
        );
    }
);

both!(
    a_citizen_fills_the_form_and_gets_a_receipt,
    |app: TestApp| async move {
        let c = support::client();
        let (status, form) = get(
            &app,
            &c,
            &format!("/rounds/{}/ballot?lang=zh", app.open_round),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            form.contains("对群众感情冷漠"),
            "indicator descriptions are on the form"
        );
        assert!(
            !form.contains("已撤销的科"),
            "retired units are not on the form"
        );
        let office = app.unit("不动产登记中心").0;
        let registry = app.unit("企业注册科").0;
        let body = serde_urlencoded::to_string([
            ("_csrf", form_token(&form)),
            (format!("u{office}").as_str(), "cold".into()),
            (format!("u{office}").as_str(), "greedy".into()),
            (format!("c{office}").as_str(), "要求请吃饭才给办".into()),
            (format!("u{registry}").as_str(), "shirking".into()),
            ("exposure", office.to_string()),
        ])
        .unwrap();
        let r = c
            .post(app.url(&format!("/rounds/{}/ballot", app.open_round)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        // The receipt is in no address (an access log would tie it to the sender): the
        // page after the form reads it from a cookie scoped to that page.
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(location, "/receipts/new");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("Path=/receipts/new") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
        let (_, page) = get(&app, &c, &location).await;
        let receipt = support::text_of(&page, "receipt");
        let stored = app
            .store
            .ballot_by_receipt(&receipt)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.ballot.nominations.len(), 2);
        assert_eq!(stored.ballot.exposure.len(), 1);
        // The receipt page says the form is stored, and nothing of what it said.
        assert!(page.contains(&receipt) && page.contains("已收到"), "{page}");
        assert!(
            !page.contains("冷、贪") && !page.contains("企业注册科"),
            "{page}"
        );
    }
);

both!(
    a_refused_form_comes_back_with_the_error_in_place_and_nothing_lost,
    |app: TestApp| async move {
        let c = support::client();
        let (_, form) = get(
            &app,
            &c,
            &format!("/rounds/{}/ballot?lang=zh", app.open_round),
        )
        .await;
        let office = app.unit("不动产登记中心").0;
        let food = app.unit("食品经营许可科").0;
        let before = app.store.ballot_count(app.open_round).await.unwrap();
        let body = serde_urlencoded::to_string([
            ("_csrf", form_token(&form)),
            (format!("u{office}").as_str(), "lazy".into()),
            (format!("c{office}").as_str(), "窗口经常无人".into()),
            (
                format!("c{food}").as_str(),
                "许可证办了三个月 <script>".into(),
            ),
        ])
        .unwrap();
        let r = c
            .post(app.url(&format!("/rounds/{}/ballot", app.open_round)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("请至少勾选一项指标"),
            "the error is explained"
        );
        let unit_block = &html[html.find(&format!("id=\"unit-{food}\"")).unwrap()..];
        let unit_block = &unit_block[..unit_block.find("</fieldset>").unwrap()];
        assert!(
            unit_block.contains("class=\"error\""),
            "the error sits at the unit"
        );
        assert!(
            unit_block.contains("许可证办了三个月 "),
            "the comment is kept"
        );
        assert!(!unit_block.contains("<script>"), "and escaped");
        assert!(
            html.contains("窗口经常无人")
                && html.contains(&format!("name=\"u{office}\" value=\"lazy\" checked"))
        );
        assert_eq!(
            app.store.ballot_count(app.open_round).await.unwrap(),
            before
        );
    }
);

both!(
    staff_sign_in_with_a_password_and_out_again,
    |app: TestApp| async move {
        let c = support::client();
        let (status, _) = get(&app, &c, "/console").await;
        assert_eq!(status, 303);
        let (_, login) = get(&app, &c, "/login?next=/console/rounds").await;
        let token = form_token(&login);
        let attempt = |password: &'static str| {
            c.post(app.url("/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string([
                        ("_csrf", token.as_str()),
                        ("name", "organizer"),
                        ("password", password),
                        ("next", "/console/rounds"),
                    ])
                    .unwrap(),
                )
                .send()
        };
        assert_eq!(attempt("wrong password").await.unwrap().status(), 401);
        let r = attempt(support::PASSWORD).await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/console/rounds");
        let (status, page) = get(&app, &c, "/console/rounds").await;
        assert_eq!(status, 200);
        assert!(page.contains("2026Q4"));
        let r = c
            .post(app.url("/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={}", form_token(&page)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(get(&app, &c, "/console").await.0, 303);
    }
);

both!(
    the_sign_in_page_never_sends_people_to_another_site,
    |app: TestApp| async move {
        let c = support::client();
        let (_, login) = get(&app, &c, "/login?next=//evil.example/").await;
        assert!(login.contains("name=\"next\" value=\"/console\""));
    }
);

both!(
    an_organizer_runs_a_round_from_the_console,
    |app: TestApp| async move {
        let c = support::client();
        let org = app.token(Role::Organizer);
        let post = |path: String, fields: Vec<(&'static str, String)>, token: String| {
            let mut all = vec![("_csrf", token)];
            all.extend(fields);
            c.post(app.url(&path))
                .bearer_auth(org)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(all).unwrap())
                .send()
        };
        let page = c
            .get(app.url("/console/units"))
            .bearer_auth(org)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = form_token(&page);
        let r = post(
            "/console/agencies".into(),
            vec![("name", "区民政局".into())],
            token.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 303);
        let r = post(
            "/console/agencies".into(),
            vec![("name", "区民政局".into())],
            token.clone(),
        )
        .await
        .unwrap();
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            matches!(
                support::flash_as(&c, &app, &location, Some(org)).await,
                Some(Err(_))
            ),
            "a duplicate is reported"
        );

        let round = app.closed_round.0;
        let r = post(
            format!("/console/rounds/{round}/transition"),
            vec![("to", "finalized".into())],
            token.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 303);
        let detail = c
            .get(app.url(&format!("/console/rounds/{round}?lang=zh")))
            .bearer_auth(org)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(detail.contains("已定稿") && detail.contains("食品经营许可科"));
        let r = post(
            format!("/console/rounds/{round}/transition"),
            vec![("to", "published".into())],
            token,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 303);
        let (status, _) = get(&app, &c, &format!("/rounds/{round}/results")).await;
        assert_eq!(status, 200);
    }
);

both!(
    an_outsize_ballot_form_is_refused_before_it_is_read_and_a_large_one_answered_with_its_error,
    |app: TestApp| async move {
        let c = support::client();
        let path = format!("/rounds/{}/ballot", app.open_round);
        let (_, form) = get(&app, &c, &path).await;
        let token = form_token(&form);
        let before = app.store.ballot_count(app.open_round).await.unwrap();
        // Distinct unit keys, as in the form that once took 28 s of server time to refuse.
        let body = |units: usize| {
            let mut b = format!("_csrf={token}");
            for i in 0..units {
                b.push_str(&format!("&u{}=cold", 1_000_000 + i));
            }
            b
        };
        let post = |body: String| {
            c.post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let big = body(90_000);
        assert!(big.len() > 1_200_000, "{}", big.len());
        assert_eq!(post(big).await.unwrap().status(), 413);
        // Under the limit, thousands of units are answered with the form and its error.
        let many = body(12_000);
        assert!(many.len() < 256 * 1024, "{}", many.len());
        let r = post(many).await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{html}");
        assert_eq!(
            app.store.ballot_count(app.open_round).await.unwrap(),
            before
        );
    }
);

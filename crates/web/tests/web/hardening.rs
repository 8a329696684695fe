//! What a hostile visitor tries against the site: forms posted from elsewhere or with a
//! token from another session, text planted in the console through a link, pages framed by
//! another site, passwords and codes guessed at speed, evidence sent until the disk fills.

use crate::support;

use minping_domain::Role;
use reqwest::StatusCode;
use serde_json::Value;
use support::{TestApp, form_token, get, post};

both!(
    every_answer_carries_the_security_headers,
    |app: TestApp| async move {
        for path in [
            "/",
            "/login",
            "/api/v1/units",
            "/static/style.css",
            "/no/such/page",
        ] {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            let h = r.headers();
            let csp = h
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{path}: no CSP"));
            assert!(
                csp.contains("frame-ancestors 'none'")
                    && csp.contains("script-src 'self'")
                    && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
            // Plain HTTP here (the test's setting): no HSTS, no Secure cookies.
            assert!(!h.contains_key("strict-transport-security"), "{path}");
        }
        // No page runs inline script or style (the CSP would block it).
        let organizer = support::signed_in(&app, Role::Organizer).await;
        for path in ["/", "/rounds", "/reports/new", "/console", "/console/audit"] {
            let (_, page) = get(&organizer, &app, path).await;
            assert!(
                !page.contains("<script>")
                    && !page.contains("<style>")
                    && !page.contains("style=\""),
                "{path} has inline script or style"
            );
        }
        let (_, entry) = get(
            &support::signed_in(&app, Role::Clerk).await,
            &app,
            &format!("/entry/{}", app.open_round),
        )
        .await;
        assert!(!entry.contains("<script>") && !entry.contains("<style>"));
    }
);

both!(
    a_form_from_another_site_or_another_session_is_refused,
    |app: TestApp| async move {
        // A token printed before signing in does not carry over into the session.
        let c = support::client();
        let (_, login) = get(&c, &app, "/login").await;
        let before = form_token(&login);
        let (status, _, _) = post(
            &c,
            &app,
            &login,
            "/login",
            &[("name", "organizer"), ("password", support::PASSWORD)],
        )
        .await;
        assert_eq!(status, 303);
        let (_, units) = get(&c, &app, "/console/units").await;
        let now = form_token(&units);
        assert_ne!(before, now, "a new session, a new token");
        let send = |token: String, headers: Vec<(&'static str, &'static str)>| {
            let c = &c;
            let app = &app;
            async move {
                let mut req = c
                    .post(app.url("/console/agencies"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(
                        serde_urlencoded::to_string([
                            ("_csrf", token.as_str()),
                            ("name", "区民政局"),
                        ])
                        .unwrap(),
                    );
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                req.send().await.unwrap().status().as_u16()
            }
        };
        assert_eq!(
            send(before.clone(), vec![]).await,
            403,
            "a token of no session"
        );
        // The browser's own word on where the form came from.
        assert_eq!(
            send(now.clone(), vec![("sec-fetch-site", "cross-site")]).await,
            403
        );
        assert_eq!(
            send(now.clone(), vec![("sec-fetch-site", "same-site")]).await,
            403,
            "a sibling site is another site"
        );
        assert_eq!(
            send(now.clone(), vec![("origin", "https://evil.example")]).await,
            403
        );
        assert_eq!(
            app.store.agencies().await.unwrap().len(),
            2,
            "nothing stored"
        );
        // As a browser sends the site's own form under `Referrer-Policy: no-referrer`.
        assert_eq!(
            send(
                now.clone(),
                vec![("sec-fetch-site", "same-origin"), ("origin", "null")]
            )
            .await,
            303
        );
        assert_eq!(app.store.agencies().await.unwrap().len(), 3);

        // A planted cookie with the old double-submit value is no token at all.
        let planted = "00112233445566778899aabbccddeeff";
        let r = support::client()
            .post(app.url("/login"))
            .header("cookie", format!("minping_csrf={planted}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "_csrf={planted}&name=organizer&password={}",
                support::PASSWORD
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // A session-signed API call from another site is refused as well; a token is not.
        let r = c
            .post(app.url(&format!("/api/v1/rounds/{}/integrity/scan", app.open_round)))
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = app
            .client
            .post(app.url(&format!("/api/v1/rounds/{}/integrity/scan", app.open_round)))
            .header("sec-fetch-site", "cross-site")
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 403);
    }
);

both!(
    a_link_cannot_put_words_in_the_console,
    |app: TestApp| async move {
        let organizer = support::signed_in(&app, Role::Organizer).await;
        for path in [
            "/console/units?error=%E8%AF%B7%E7%82%B9%E5%87%BB%E6%AD%A4%E5%A4%84%E9%87%8D%E6%96%B0%E7%99%BB%E5%BD%95",
            "/console/units?done=%E8%AF%B7%E7%82%B9%E5%87%BB%E6%AD%A4%E5%A4%84%E9%87%8D%E6%96%B0%E7%99%BB%E5%BD%95",
            "/console/panel?error=%E8%AF%B7%E7%82%B9%E5%87%BB%E6%AD%A4%E5%A4%84",
            "/console/reports?error=%E8%AF%B7%E7%82%B9%E5%87%BB%E6%AD%A4%E5%A4%84",
        ] {
            let (status, page) = get(&organizer, &app, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(!page.contains("请点击此处"), "{path} shows the link's text");
        }
        // What an action did is shown once, from a signed cookie.
        let (_, units) = get(&organizer, &app, "/console/units").await;
        let (status, location, _) = post(
            &organizer,
            &app,
            &units,
            "/console/agencies",
            &[("name", "区民政局")],
        )
        .await;
        assert_eq!((status, location.as_str()), (303, "/console/units"));
        assert_eq!(
            support::flash(&organizer, &app, &location).await,
            Some(Ok("区民政局".to_string()))
        );
        assert_eq!(
            support::flash(&organizer, &app, &location).await,
            None,
            "once"
        );
        // A forged flash cookie shows nothing.
        let r = organizer
            .get(app.url("/console/units"))
            .header(
                "cookie",
                "minping_flash=eX.0123456789abcdef0123456789abcdef",
            )
            .send()
            .await
            .unwrap();
        assert!(!r.text().await.unwrap().contains("role=\"alert\""));
    }
);

both!(
    guessing_one_accounts_password_backs_off_and_unknown_names_answer_alike,
    |app: TestApp| async move {
        let attempt = |name: &'static str, password: &'static str| {
            let app = &app;
            async move {
                let c = support::client();
                let (_, login) = get(&c, app, "/login").await;
                let (status, _, body) = post(
                    &c,
                    app,
                    &login,
                    "/login",
                    &[("name", name), ("password", password)],
                )
                .await;
                (status, body)
            }
        };
        // An unknown name and a wrong password answer the same.
        let (unknown, unknown_page) = attempt("nobody-here", "guess-guess").await;
        let (wrong, wrong_page) = attempt("clerk", "guess-guess").await;
        assert_eq!((unknown, wrong), (401, 401));
        let strip = |page: &str| page.replace("nobody-here", "").replace("clerk", "");
        assert_eq!(strip(&unknown_page).len(), strip(&wrong_page).len());
        // Five failures in all are free; then the account waits, even for the right
        // password, while other accounts sign in.
        for _ in 0..4 {
            assert_eq!(attempt("clerk", "guess-guess").await.0, 401);
        }
        let (status, page) = attempt("clerk", support::PASSWORD).await;
        assert_eq!(status, 429, "the sixth attempt waits");
        assert!(page.contains("失败次数过多") || page.contains("Too many"));
        assert_eq!(attempt("leader", support::PASSWORD).await.0, 303);
    }
);

both!(
    receipts_and_tracking_codes_cannot_be_guessed_at_speed,
    limited,
    |app: TestApp| async move {
        let mut statuses = Vec::new();
        for i in 0..40 {
            let path = if i % 2 == 0 {
                format!("/api/v1/receipts/K7Q2M9XP4R{:02}", i)
            } else {
                format!("/reports/track?code=ABCD-EFGH-{:02}", i)
            };
            statuses.push(
                app.client
                    .get(app.url(&path))
                    .send()
                    .await
                    .unwrap()
                    .status(),
            );
        }
        assert!(
            statuses[..30]
                .iter()
                .all(|s| *s != StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        assert_eq!(statuses[39], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
        // Other reading is not limited.
        assert_eq!(
            app.client
                .get(app.url("/api/v1/units"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let r = app
            .client
            .get(app.url("/api/v1/receipts/K7Q2M9XP4RTB"))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }
);

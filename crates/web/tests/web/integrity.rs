//! Integrity of the open channel over HTTP, on SQLite and PostgreSQL: clients behind a
//! trusted proxy, stuffing held by the scan (on demand and at close) and released by
//! cluster with a reason, tallies without held ballots, receipts that show status only.

use crate::support;

use minping_domain::Role;
use rand::{Rng, SeedableRng, rngs::StdRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::{TestApp, api};

const INDICATORS: [&str; 5] = ["cold", "lazy", "shirking", "arbitrary", "greedy"];

/// Sends an open-channel ballot as a client at `addr` (through the loopback "proxy");
/// the receipt.
async fn send(app: &TestApp, addr: &str, agent: &str, body: Value) -> String {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{}/ballots", app.open_round)))
        .header("x-forwarded-for", addr)
        .header("user-agent", agent)
        .header("accept-language", "zh-CN,zh;q=0.9")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["receipt"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `n` honest ballots from distinct addresses, naming the district's units with their own
/// ticks; and `m` ballots from one address all naming `target` "贪". Their receipts.
async fn honest_and_flood(
    app: &TestApp,
    n: usize,
    m: usize,
    target: i64,
) -> (Vec<String>, Vec<String>) {
    let mut rng = StdRng::seed_from_u64(7);
    let units: Vec<i64> = app
        .units
        .iter()
        .filter(|u| u.active)
        .map(|u| u.id.0)
        .collect();
    let mut honest = Vec::new();
    for i in 0..n {
        let k = rng.gen_range(1..=2);
        let mut named: Vec<i64> = units.clone();
        named.sort_by_key(|_| rng.r#gen::<u32>());
        let nominations: Vec<Value> = named[..k]
            .iter()
            .map(|u| {
                let ticks: Vec<&str> = INDICATORS
                    .iter()
                    .filter(|_| rng.gen_bool(0.4))
                    .copied()
                    .collect();
                let ticks = if ticks.is_empty() {
                    vec!["lazy"]
                } else {
                    ticks
                };
                json!({"unit_id": u, "indicators": ticks})
            })
            .collect();
        let addr = format!(
            "10.{}.{}.{}",
            i % 200,
            rng.gen_range(0..250),
            rng.gen_range(1..250)
        );
        let agent = [
            "Mozilla/5.0 (iPhone)",
            "Mozilla/5.0 (Android)",
            "Mozilla/5.0 (Windows)",
        ][i % 3];
        honest.push(
            send(
                app,
                &addr,
                agent,
                json!({"channel": "open", "nominations": nominations}),
            )
            .await,
        );
    }
    let mut flood = Vec::new();
    for _ in 0..m {
        let body = json!({"channel": "open", "nominations": [{"unit_id": target, "indicators": ["greedy"]}]});
        flood.push(send(app, "203.0.113.9", "python-requests/2.31", body).await);
    }
    (honest, flood)
}

async fn status_of(app: &TestApp, receipt: &str) -> Value {
    api(
        app,
        None,
        Method::GET,
        &format!("/api/v1/receipts/{receipt}"),
        None,
    )
    .await
    .1
}

async fn quarantine(app: &TestApp) -> Vec<Value> {
    let (s, list) = api(
        app,
        Some(Role::Organizer),
        Method::GET,
        &format!("/api/v1/rounds/{}/quarantine", app.open_round),
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    list.as_array().unwrap().clone()
}

/// The preview ranking's nominations of `unit` (the round must be closed).
async fn nominations_of(app: &TestApp, unit: i64) -> u64 {
    let (s, preview) = api(
        app,
        Some(Role::Organizer),
        Method::GET,
        &format!("/api/v1/rounds/{}/preview", app.open_round),
        None,
    )
    .await;
    assert_eq!(s, 200, "{preview}");
    preview
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == unit)
        .map_or(0, |r| r["nominations"].as_u64().unwrap())
}

both!(
    a_flood_from_one_address_is_held_and_released_by_cluster_with_a_reason,
    |app: TestApp| async move {
        let target = app.units[3].id.0;
        let (honest, flood) = honest_and_flood(&app, 200, 80, target).await;

        let (s, summary) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{}/integrity/scan", app.open_round),
            None,
        )
        .await;
        assert_eq!(s, 200, "{summary}");
        assert_eq!(summary["scanned"], 280);
        assert_eq!(summary["held"], 80, "{summary}");

        let held = quarantine(&app).await;
        let receipts: BTreeSet<&str> = held
            .iter()
            .map(|h| h["receipt"].as_str().unwrap())
            .collect();
        assert_eq!(
            receipts,
            flood.iter().map(String::as_str).collect(),
            "exactly the flood is held"
        );
        let clusters: BTreeSet<&str> = held
            .iter()
            .map(|h| h["cluster"].as_str().unwrap())
            .collect();
        assert_eq!(clusters.len(), 1);
        assert!(
            held[0]["reason"].as_str().unwrap().contains("address"),
            "{}",
            held[0]
        );
        assert_eq!(status_of(&app, &flood[0]).await["status"], "held");
        assert_eq!(status_of(&app, &honest[0]).await["status"], "stored");

        // Closing scans again and keeps the hold; the ranking leaves held ballots out.
        let (s, _) = support::transition(&app, app.open_round, "closed").await;
        assert_eq!(s, 200);
        assert_eq!(quarantine(&app).await.len(), 80);
        let before = nominations_of(&app, target).await;
        assert_eq!(status_of(&app, &honest[0]).await["status"], "counted");
        assert_eq!(status_of(&app, &flood[0]).await["status"], "held");

        // The ranking cannot be frozen while held ballots await review.
        let (s, body) = support::transition(&app, app.open_round, "finalized").await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("unreviewed_holds")),
            "{body}"
        );

        // Releasing needs a reason, and the cluster's id.
        let cluster = clusters.into_iter().next().unwrap().to_string();
        let release = |cluster: String, reason: &'static str| {
            let app = &app;
            async move {
                api(
                    app,
                    Some(Role::Organizer),
                    Method::POST,
                    &format!("/api/v1/rounds/{}/quarantine/release", app.open_round),
                    Some(json!({"cluster": cluster, "reason": reason})),
                )
                .await
            }
        };
        let (s, body) = release(cluster.clone(), "  ").await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("reason_required"))
        );
        let (s, body) = release("nosuchcluster".into(), "核实").await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("cluster_not_found"))
        );
        let (s, body) = release(cluster.clone(), "经核实为某企业职工集中填写").await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["ballots"], 80);
        assert!(quarantine(&app).await.is_empty());
        assert_eq!(nominations_of(&app, target).await, before + 80);

        // A released ballot is not held again by a later scan.
        let (_, summary) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{}/integrity/scan", app.open_round),
            None,
        )
        .await;
        assert_eq!(
            (summary["held"].as_u64(), summary["released"].as_u64()),
            (Some(0), Some(80))
        );
        let decisions = app.store.integrity_decisions(app.open_round).await.unwrap();
        assert_eq!(decisions.len(), 1);
        assert_eq!(
            (
                decisions[0].decision.as_str(),
                decisions[0].ballots,
                decisions[0].actor.as_str()
            ),
            ("release", 80, "organizer")
        );

        // Frozen, the receipts tell: the released flood was counted like the rest.
        let (s, _) = support::transition(&app, app.open_round, "finalized").await;
        assert_eq!(s, 200);
        assert_eq!(status_of(&app, &flood[0]).await["status"], "counted");
        assert_eq!(status_of(&app, &honest[0]).await["status"], "counted");
    }
);

both!(
    honest_ballots_from_one_office_address_are_not_held,
    |app: TestApp| async move {
        let (honest, _) = honest_and_flood(&app, 150, 0, 0).await;
        // An office: forty colleagues behind one address, each with their own choices.
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..40 {
            let unit = app.units[rng.gen_range(0..4)].id.0;
            let ticks = [INDICATORS[rng.gen_range(0..5)]];
            send(
                &app,
                "198.51.100.20",
                "Mozilla/5.0 (Windows)",
                json!({"channel": "open", "nominations": [{"unit_id": unit, "indicators": ticks}]}),
            )
            .await;
        }
        let (s, summary) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{}/integrity/scan", app.open_round),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(summary["held"], 0, "{summary}");
        assert_eq!(status_of(&app, &honest[0]).await["status"], "stored");
    }
);

both!(
    a_receipt_answers_status_only_however_it_is_typed,
    |app: TestApp| async move {
        let comment = "窗口工作人员让我跑了四趟";
        let body = json!({"channel": "open", "nominations": [{"unit_id": app.units[1].id.0, "indicators": ["cold"], "comment": comment}]});
        let receipt = send(&app, "192.0.2.44", "Mozilla/5.0", body).await;
        let (s, answer) = api(
            &app,
            None,
            Method::GET,
            &format!("/api/v1/receipts/{receipt}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            answer,
            json!({"receipt": receipt, "round_id": app.open_round.0, "status": "stored"})
        );
        // Typed in lower case with spaces: the same receipt.
        let typed = receipt.to_lowercase().replace('-', " ");
        let (s, answer) = api(
            &app,
            None,
            Method::GET,
            &format!("/api/v1/receipts/{typed}"),
            None,
        )
        .await;
        assert_eq!(
            (s, answer["receipt"].as_str()),
            (StatusCode::OK, Some(receipt.as_str()))
        );
        // The page neither shows the unit nor the comment; the lookup box finds it, posted
        // so the receipt is in no address.
        let browser = support::client();
        let (_, lookup) = support::get(&browser, &app, "/receipts").await;
        assert!(lookup.contains("method=\"post\" action=\"/receipts\""));
        let (status, _, posted) =
            support::post(&browser, &app, &lookup, "/receipts", &[("r", &typed)]).await;
        assert_eq!(status, 200);
        assert!(posted.contains(&receipt) && !posted.contains(comment));
        for path in [
            format!("/receipts/{receipt}"),
            format!("/receipts?r={}", typed.replace(' ', "+")),
        ] {
            let r = support::client().get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["referrer-policy"], "no-referrer");
            let page = r.text().await.unwrap();
            assert!(page.contains(&receipt));
            assert!(
                !page.contains(comment) && !page.contains(&app.units[1].name),
                "{page}"
            );
        }
        let r = support::client()
            .get(app.url("/receipts/ABCD-EFGH-JKMN"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
);

both!(
    rate_limits_count_an_ipv6_client_by_its_64,
    limited,
    |app: TestApp| async move {
        let body = json!({"channel": "open", "nominations": [{"unit_id": app.units[0].id.0, "indicators": ["cold"]}]});
        let post = |addr: String| {
            let app = &app;
            let body = body.clone();
            async move {
                app.client
                    .post(app.url(&format!("/api/v1/rounds/{}/ballots", app.open_round)))
                    .header("x-forwarded-for", addr)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        // A hundred and twenty addresses of one /64 at once are one client: past the burst
        // of sixty, refused.
        let burst =
            futures::future::join_all((0..120).map(|i| post(format!("2001:db8:1:2::{:x}", i + 1))))
                .await;
        let refused = burst.iter().filter(|s| s.as_u16() == 429).count();
        assert!(refused >= 50, "{refused} of 120 refused");
        // As many subscribers (distinct /64s) at once are as many clients.
        let many =
            futures::future::join_all((0..120).map(|i| post(format!("2001:db8:2:{:x}::1", i + 1))))
                .await;
        assert!(many.iter().all(|s| s.as_u16() == 201), "{many:?}");
        // And an IPv4 client behind the same proxy is its own.
        assert_eq!(post("192.0.2.1".into()).await, 201);
    }
);

both!(
    a_kept_cluster_stays_out_of_the_published_results_which_say_so,
    |app: TestApp| async move {
        let target = app.units[2].id.0;
        let (_, flood) = honest_and_flood(&app, 120, 60, target).await;
        let round = app.open_round;
        let step = |to: &'static str| support::transition(&app, round, to);
        assert_eq!(step("closed").await.0, 200);
        let held = quarantine(&app).await;
        assert_eq!(held.len(), 60);
        let cluster = held[0]["cluster"].as_str().unwrap().to_string();
        let (s, body) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{round}/quarantine/keep"),
            Some(json!({"cluster": cluster, "reason": "同一地址两分钟内提交60张"})),
        )
        .await;
        assert_eq!(
            (s, body["ballots"].as_u64()),
            (StatusCode::OK, Some(60)),
            "{body}"
        );
        assert!(quarantine(&app).await.iter().all(|h| h["state"] == "kept"));
        assert_eq!(status_of(&app, &flood[0]).await["status"], "held");
        assert_eq!(step("finalized").await.0, 200);
        assert_eq!(status_of(&app, &flood[0]).await["status"], "held");
        // Frozen: no decision may change the count any more.
        let (s, body) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{round}/quarantine/release"),
            Some(json!({"cluster": cluster, "reason": "改主意"})),
        )
        .await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("round_frozen"))
        );
        assert_eq!(step("published").await.0, 200);
        let (_, results) = api(
            &app,
            None,
            Method::GET,
            &format!("/api/v1/rounds/{round}/results"),
            None,
        )
        .await;
        assert_eq!(results["held"], 60, "{results}");
        assert_eq!(results["ballots"], 120);
        assert!(results["held_changes_top_n"].is_boolean());
        let line = results["ranking"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["unit_id"] == target);
        let open = line.map_or(0, |l| l["by_channel"]["open"].as_u64().unwrap_or(0));
        assert!(open < 60, "the kept flood is not in the ranking: {line:?}");
        // Publication deletes the signals: nothing is left to scan or link.
        let (observed, _) = app.store.integrity_input(round).await.unwrap();
        assert!(observed.is_empty());
        let page = support::client()
            .get(app.url(&format!("/rounds/{round}/results")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("id=\"held\""),
            "the results page says ballots were held"
        );
    }
);

both!(
    a_round_publishes_its_counted_receipts_under_the_root_its_notice_prints,
    |app: TestApp| async move {
        let target = app.units[3].id.0;
        let (honest, flood) = honest_and_flood(&app, 60, 40, target).await;
        let round = app.open_round;
        let transition = |to: &'static str| support::transition(&app, round, to);
        let list = |role: Option<Role>| {
            let app = &app;
            async move {
                api(
                    app,
                    role,
                    Method::GET,
                    &format!("/api/v1/rounds/{round}/receipts"),
                    None,
                )
                .await
            }
        };
        assert_eq!(transition("closed").await.0, 200);
        let held = quarantine(&app).await;
        assert_eq!(held.len(), 40);
        let cluster = held[0]["cluster"].as_str().unwrap().to_string();
        let (s, _) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{round}/quarantine/keep"),
            Some(json!({"cluster": cluster, "reason": "同一地址批量提交"})),
        )
        .await;
        assert_eq!(s, 200);
        // Nobody sees the list of a round still being counted.
        assert_eq!(list(Some(Role::Organizer)).await.0, 404);
        let (s, body) = transition("finalized").await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(list(None).await.0, 404, "not public before publication");
        let (s, inside) = list(Some(Role::Organizer)).await;
        assert_eq!(s, 200, "{inside}");

        // Every counted receipt is in it, no held one; the root is the hashes' Merkle root.
        let hashes: Vec<String> = inside["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_string())
            .collect();
        let counted = minping_domain::receipt::CountedReceipts::from_hex(&hashes).unwrap();
        assert_eq!(counted.len(), 60);
        assert_eq!(inside["count"], 60);
        assert_eq!(inside["root"].as_str(), Some(counted.root().as_str()));
        let parse = |r: &String| minping_domain::Receipt::parse(r).unwrap();
        assert!(honest.iter().all(|r| counted.contains(&parse(r))));
        assert!(!flood.iter().any(|r| counted.contains(&parse(r))));
        let body = inside.to_string();
        assert!(
            !honest.iter().any(|r| body.contains(r.as_str())),
            "the list holds hashes, never receipts"
        );

        // The 通报 prints the same root, and counts the same ballots.
        let pdf = app
            .client
            .get(app.url(&format!("/api/v1/rounds/{round}/notice.pdf")))
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.status(), 200);
        let text: String = support::pdf_text(&pdf.bytes().await.unwrap())
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.contains(&counted.root()), "{text}");
        assert!(text.contains("有效评议表60份"), "{text}");

        // Published, it is everyone's, and the same.
        assert_eq!(transition("published").await.0, 200);
        let (s, public) = list(None).await;
        assert_eq!(s, 200);
        assert_eq!(public, inside);
    }
);

both!(
    the_organizer_reviews_held_clusters_on_the_console_and_is_warned_before_freezing,
    |app: TestApp| async move {
        let target = app.units[3].id.0;
        let (_, flood) = honest_and_flood(&app, 80, 40, target).await;
        let round = app.open_round;
        let browser = support::signed_in(&app, Role::Organizer).await;
        let page = format!("/console/rounds/{round}/quarantine");

        // A scan from the page finds the flood and says so.
        let (status, html) = support::get(&browser, &app, &page).await;
        assert_eq!(status, 200);
        let (status, location, _) =
            support::post(&browser, &app, &html, &format!("{page}/scan"), &[]).await;
        assert_eq!(status, 303);
        let (_, html) = support::get(&browser, &app, &location).await;
        assert!(html.contains("40 张待审核"), "{html}");
        assert!(html.contains("张选票中"), "findings are described in words");
        let cluster = {
            let at = html.find("name=\"cluster\" value=\"").unwrap() + 22;
            html[at..at + 12].to_string()
        };

        // The round page warns while the holds await review.
        let (_, round_page) =
            support::get(&browser, &app, &format!("/console/rounds/{round}")).await;
        assert!(
            support::text_of(&round_page, "unreviewed-warning").contains("40"),
            "{round_page}"
        );

        // A decision needs a reason and the CSRF token.
        let (status, location, _) = support::post(
            &browser,
            &app,
            &html,
            &format!("{page}/decide"),
            &[("cluster", &cluster), ("decision", "keep"), ("reason", " ")],
        )
        .await;
        assert_eq!(status, 303);
        let (_, after) = support::get(&browser, &app, &location).await;
        assert!(after.contains("role=\"alert\""), "{after}");
        assert_eq!(quarantine(&app).await.len(), 40);
        let forged = browser
            .post(app.url(&format!("{page}/decide")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("cluster={cluster}&decision=release&reason=x"))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert_eq!(quarantine(&app).await.len(), 40);

        let (status, location, _) = support::post(
            &browser,
            &app,
            &html,
            &format!("{page}/decide"),
            &[
                ("cluster", &cluster),
                ("decision", "keep"),
                ("reason", "同一地址批量提交"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, after) = support::get(&browser, &app, &location).await;
        assert!(after.contains("已确认 40 张评议表不计入统计"), "{after}");
        assert!(after.contains("同一地址批量提交") && after.contains("organizer"));
        assert!(quarantine(&app).await.iter().all(|h| h["state"] == "kept"));
        assert_eq!(status_of(&app, &flood[0]).await["status"], "held");
        let (_, round_page) =
            support::get(&browser, &app, &format!("/console/rounds/{round}")).await;
        assert!(!round_page.contains("unreviewed-warning"));
    }
);

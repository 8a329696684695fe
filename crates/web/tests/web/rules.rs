//! The rules as the source article states them, through the API on SQLite and PostgreSQL: a
//! substantiated report counts in one round only and every such unit shares rank 1; rounds
//! are labelled by periods that never overlap; a confirmed removal ends the post; the
//! publication rules are honoured; the notice prints a deduction only when the rules set one.

use crate::support;

use minping_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, api, pdf_text};

async fn step(app: &TestApp, round: i64, to: &str) {
    let (status, body) = api(
        app,
        Some(Role::Organizer),
        Method::POST,
        &format!("/api/v1/rounds/{round}/transition"),
        Some(json!({ "to": to })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{to}: {body}");
}

/// A report against a unit, taken by the hotline and substantiated by an investigator.
async fn substantiated(app: &TestApp, unit: &str) {
    let (status, _) = api(
        app,
        Some(Role::Investigator),
        Method::POST,
        "/api/v1/reports/intake",
        Some(json!({
            "source": "hotline",
            "unit_id": app.unit(unit).0,
            "description": "来电反映：工作人员暗示送购物卡才能办理。",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = app.store.reports(None).await.unwrap()[0].id;
    // Taken in and opened by one investigator, substantiated by another.
    for (to, action, token) in [
        ("investigating", None, app.token(Role::Investigator)),
        (
            "substantiated",
            Some("记过处分"),
            app.investigator2.as_str(),
        ),
    ] {
        let r = app
            .client
            .post(app.url(&format!("/api/v1/reports/{id}/transition")))
            .bearer_auth(token)
            .json(&json!({ "to": to, "reason": "核查", "action": action }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{to}");
    }
}

/// A round's ranking as the organizer reads it: (unit, rank, override).
async fn ranking(app: &TestApp, round: i64) -> Vec<(String, u64, Option<String>)> {
    let (status, body) = api(
        app,
        Some(Role::Organizer),
        Method::GET,
        &format!("/api/v1/rounds/{round}/results"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unit"].as_str().unwrap().to_string(),
                r["rank"].as_u64().unwrap(),
                r["override"].as_str().map(String::from),
            )
        })
        .collect()
}

async fn notice_text(app: &TestApp, round: i64) -> String {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/rounds/{round}/notice.pdf")))
        .bearer_auth(app.token(Role::Organizer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Lines wrap anywhere in Chinese text: compare without the layout's white space.
    pdf_text(&r.bytes().await.unwrap())
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

both!(
    a_substantiated_report_counts_in_the_first_round_finalized_after_it_and_in_no_other,
    |app: TestApp| async move {
        substantiated(&app, "规划许可科").await;
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        assert_eq!(
            ranking(&app, q3).await[0],
            ("规划许可科".into(), 1, Some("substantiated_report".into()))
        );
        step(&app, q3, "published").await;

        // The next round, finalized later the same quarter, does not count it again.
        let q4 = app.open_round.0;
        let (status, _) = api(
            &app,
            None,
            Method::POST,
            &format!("/api/v1/rounds/{q4}/ballots"),
            Some(json!({"channel": "open", "nominations": [
                {"unit_id": app.unit("企业注册科").0, "indicators": ["lazy"]}
            ]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        step(&app, q4, "closed").await;
        step(&app, q4, "finalized").await;
        let q4_ranking = ranking(&app, q4).await;
        assert_eq!(
            q4_ranking,
            [("企业注册科".into(), 1, None)],
            "{q4_ranking:?}"
        );
        let report = &app.store.reports(None).await.unwrap()[0];
        assert_eq!(report.counted_in, Some(app.closed_round));
    }
);

both!(
    every_unit_with_a_substantiated_report_takes_rank_1_together_and_the_notice_says_so,
    |app: TestApp| async move {
        // 食品经营许可科 has the round's only ballot; two other units have reports, one of
        // them two: the number of reports does not order them, both are first.
        substantiated(&app, "规划许可科").await;
        substantiated(&app, "企业注册科").await;
        substantiated(&app, "企业注册科").await;
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        let ranks = ranking(&app, q3).await;
        let at_one: Vec<&str> = ranks
            .iter()
            .filter(|r| r.1 == 1)
            .map(|r| r.0.as_str())
            .collect();
        assert_eq!(at_one.len(), 2, "{ranks:?}");
        assert!(at_one.contains(&"规划许可科") && at_one.contains(&"企业注册科"));
        assert!(ranks.iter().filter(|r| r.1 == 1).all(|r| r.2.is_some()));
        assert_eq!(ranks[2], ("食品经营许可科".into(), 3, None));

        let text = notice_text(&app, q3).await;
        // Each row's note (the table wraps it, so only its first words are compared).
        assert_eq!(
            text.matches("经查实存在吃拿卡要等问题").count(),
            2,
            "{text}"
        );
        assert!(text.contains("直接列为最难办事科室第1名（并列）"), "{text}");
    }
);

both!(
    a_round_is_labelled_by_its_period_periods_never_overlap_and_a_quarter_may_be_skipped,
    |app: TestApp| async move {
        let create = |label: &'static str| {
            let app = &app;
            async move {
                api(
                    app,
                    Some(Role::Organizer),
                    Method::POST,
                    "/api/v1/rounds",
                    Some(json!({ "label": label })),
                )
                .await
            }
        };
        let (status, half) = create("2025H1").await;
        assert_eq!(status, StatusCode::CREATED, "{half}");
        assert_eq!(
            (
                &half["label"],
                &half["start"],
                &half["end"],
                &half["label_zh"]
            ),
            (
                &json!("2025H1"),
                &json!("2025-01-01"),
                &json!("2025-06-30"),
                &json!("2025年上半年")
            )
        );
        for overlapping in ["2025Q2", "2025-06-15..2025-07-15", "2025"] {
            let (status, body) = create(overlapping).await;
            assert_eq!(status, StatusCode::CONFLICT, "{overlapping}: {body}");
            assert_eq!(body["error"]["code"], "period_overlaps");
        }
        // 2025Q3 is skipped.
        let (status, q4) = create("2025Q4").await;
        assert_eq!(status, StatusCode::CREATED, "{q4}");
        let (status, custom) = create("2026-01-10..2026-03-20").await;
        assert_eq!(status, StatusCode::CREATED, "{custom}");
        assert_eq!(custom["label_zh"], "2026年1月10日至3月20日");
        let (status, body) = create("2026-03-21..2026-04-10").await;
        assert_eq!(status, StatusCode::CONFLICT, "the fixture's 2026Q2: {body}");
        let (status, bad) = create("2025Q5").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad["error"]["field"], "label");
        let (_, rounds) = api(&app, None, Method::GET, "/api/v1/rounds", None).await;
        let labels: Vec<&str> = rounds
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["label"].as_str().unwrap())
            .collect();
        assert_eq!(
            labels,
            [
                "2026Q4",
                "2026Q3",
                "2026Q2",
                "2026-01-10..2026-03-20",
                "2025Q4",
                "2025H1"
            ]
        );
        // Only one round is open: the fixture's 2026Q4 is.
        let (status, body) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/rounds/{}/transition", q4["id"]),
            Some(json!({"to": "open"})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["code"], "another_round_open");
    }
);

both!(
    confirming_a_removal_ends_the_heads_post_and_the_notice_and_the_calendar_show_it,
    |app: TestApp| async move {
        // 不动产登记中心 was first in 2026Q2; a substantiated report puts it first in 2026Q3
        // too: two consecutive rounds in the top 3 remove its head, 吴小琴.
        substantiated(&app, "不动产登记中心").await;
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        step(&app, q3, "published").await;
        let (_, sanctions) = api(
            &app,
            Some(Role::Organizer),
            Method::GET,
            &format!("/api/v1/rounds/{q3}/sanctions"),
            None,
        )
        .await;
        let removal = sanctions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "head_removed")
            .unwrap_or_else(|| panic!("a removal among {sanctions}"))
            .clone();
        let person = removal["person_id"].as_i64().unwrap();
        let post = |posts: &Value| -> Value {
            posts
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["person_id"] == person && p["role"] == "head")
                .unwrap()
                .clone()
        };
        let (_, posts) = api(
            &app,
            Some(Role::Organizer),
            Method::GET,
            "/api/v1/posts",
            None,
        )
        .await;
        assert_eq!(post(&posts)["end"], Value::Null);

        let (status, body) = api(
            &app,
            Some(Role::Organizer),
            Method::POST,
            &format!("/api/v1/sanctions/{}/decision", removal["id"]),
            Some(json!({"confirm": true, "reason": "按规则确认", "decision_ref": "区委常委会会议纪要〔2026〕12号"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let today = app.state.today().to_string();
        let (_, posts) = api(
            &app,
            Some(Role::Organizer),
            Method::GET,
            "/api/v1/posts",
            None,
        )
        .await;
        assert_eq!(
            post(&posts)["end"],
            json!(today),
            "the post ends when the removal is decided"
        );

        let text = notice_text(&app, q3).await;
        assert!(text.contains("免去吴小琴科室负责人职务"), "{text}");
        let page = app
            .client
            .get(app.url(&format!("/console/promotion?person={person}&lang=zh")))
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let posts_table = &page[page.find("id=\"posts\"").expect("the person's posts")..];
        assert!(
            posts_table.contains(&today),
            "the calendar shows the post ended"
        );
    }
);

both!(
    a_round_whose_rules_do_not_publish_the_list_shows_it_to_insiders_only,
    rules = "[publication]\npublish_top_n = false\n",
    |app: TestApp| async move {
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        step(&app, q3, "published").await;
        let path = format!("/api/v1/rounds/{q3}/results");
        let (status, body) = api(&app, None, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "results_withheld");
        let (status, _) = api(&app, Some(Role::Leader), Method::GET, &path, None).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "circulated to the agencies' leaders"
        );
        let page = app
            .client
            .get(app.url(&format!("/rounds/{q3}/results?lang=zh")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(page.text().await.unwrap().contains("未向社会公示"));
        let list = app
            .client
            .get(app.url("/results?lang=zh"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !list.contains(&format!("/rounds/{q3}/results")),
            "the results list does not link a list that was not published"
        );
        // Still circulated: the notice is printed.
        notice_text(&app, q3).await;
    }
);

both!(
    a_round_whose_rules_do_not_circulate_it_has_no_notice_but_its_list_is_public,
    rules = "[publication]\ncirculate = false\n",
    |app: TestApp| async move {
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        step(&app, q3, "published").await;
        let (status, body) = api(
            &app,
            Some(Role::Organizer),
            Method::GET,
            &format!("/api/v1/rounds/{q3}/notice.pdf"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["code"], "not_circulated");
        let path = format!("/api/v1/rounds/{q3}/results");
        let (status, _) = api(&app, None, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK);
        let list = app
            .client
            .get(app.url("/results?lang=zh"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(list.contains(&format!("/rounds/{q3}/results")), "{list}");
    }
);

both!(the_notice_invents_no_deduction, |app: TestApp| async move {
    let q3 = app.closed_round.0;
    step(&app, q3, "finalized").await;
    let text = notice_text(&app, q3).await;
    assert!(
        text.contains("评议结果纳入单位领导班子和领导干部年度考核"),
        "{text}"
    );
    assert!(
        !text.contains("扣"),
        "no points the article never names: {text}"
    );
    assert!(
        text.contains("连续2次列入前10名的或列入前3名的，对科室负责人进行约谈"),
        "{text}"
    );
});

both!(
    the_notice_prints_the_deduction_the_rules_set,
    rules = "[deduction]\npoints = 2.0\n",
    |app: TestApp| async move {
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        let text = notice_text(&app, q3).await;
        assert!(text.contains("每列入前10名一次，扣2分"), "{text}");
    }
);

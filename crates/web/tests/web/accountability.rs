//! Reports, sanctions, the promotion calendar and the statistics, driven through the pages
//! as people use them (no JavaScript), on SQLite and PostgreSQL.

use crate::support;

use minping_domain::{Role, report::ReportState};
use serde_json::{Value, json};
use support::{TestApp, get, pdf_text, post, signed_in, text_of};

both!(
    a_citizen_reports_anonymously_follows_it_and_investigators_move_it_to_substantiated,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let citizen = support::client();
        let (status, form) = get(&citizen, &app, "/reports/new?lang=zh").await;
        assert_eq!(status, 200);
        assert!(form.contains("企业注册科") && form.contains("匿名"));

        // A description too short comes back with what was typed and a reason.
        let (status, _, again) = post(
            &citizen,
            &app,
            &form,
            "/reports/new",
            &[
                ("unit_id", &unit),
                ("description", "太慢"),
                ("staff", "窗口2号"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(again.contains("至少10个字") && again.contains("窗口2号"));
        assert!(app.store.reports(None).await.unwrap().is_empty());

        let (status, _, filed) = post(
            &citizen,
            &app,
            &again,
            "/reports/new",
            &[
                ("unit_id", &unit),
                (
                    "description",
                    "办理营业执照时，窗口工作人员暗示要请吃饭才能加快办理。",
                ),
                ("occurred_on", "2026-10-12"),
                ("contact", "13800000000"),
            ],
        )
        .await;
        assert_eq!(status, 200);
        let code = text_of(&filed, "tracking-code");
        let stored = app.store.reports(None).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].contact.as_deref(), Some("13800000000"));

        let (_, track) = get(
            &citizen,
            &app,
            &format!("/reports/track?code={code}&lang=zh"),
        )
        .await;
        assert_eq!(text_of(&track, "status"), "已受理");
        let (_, unknown) = get(&citizen, &app, "/reports/track?code=ABCD-EFGH-JK").await;
        assert!(unknown.contains("id=\"not-found\""));

        // The unit's own users, clerks and leaders cannot see reports at all.
        for role in [Role::Unit, Role::Clerk, Role::Leader] {
            let c = signed_in(&app, role).await;
            assert_eq!(get(&c, &app, "/console/reports").await.0, 403, "{role:?}");
            let path = format!("/console/reports/{}", stored[0].id);
            assert_eq!(get(&c, &app, &path).await.0, 403, "{role:?}");
        }

        // The organizer reads it (with the contact) but cannot move it.
        let organizer = signed_in(&app, Role::Organizer).await;
        let path = format!("/console/reports/{}", stored[0].id);
        let (status, detail) = get(&organizer, &app, &path).await;
        assert_eq!(status, 200);
        assert!(detail.contains("13800000000"));
        assert!(!detail.contains("id=\"step\""));

        let investigator = signed_in(&app, Role::Investigator).await;
        let (_, detail) = get(&investigator, &app, &path).await;
        let step = format!("{path}/transition");
        let (status, location, _) = post(
            &investigator,
            &app,
            &detail,
            &step,
            &[
                ("to", "investigating"),
                ("reason", "转区纪委监委第三纪检组核查"),
            ],
        )
        .await;
        assert_eq!((status, location.starts_with(&path)), (303, true));
        // Substantiating without the action taken is refused and changes nothing.
        let (_, location, _) = post(
            &investigator,
            &app,
            &detail,
            &step,
            &[
                ("to", "substantiated"),
                ("reason", "经查属实"),
                ("action", ""),
            ],
        )
        .await;
        assert!(
            matches!(
                support::flash(&investigator, &app, &location).await,
                Some(Err(_))
            ),
            "{location}"
        );
        // The one who opened it cannot substantiate it: a second investigator does.
        let (_, location, _) = post(
            &investigator,
            &app,
            &detail,
            &step,
            &[
                ("to", "substantiated"),
                ("reason", "经查属实"),
                ("action", "给予当事人党内警告处分"),
            ],
        )
        .await;
        assert_eq!(
            support::flash(&investigator, &app, &location).await,
            Some(Err(
                "举报须由受理或立案以外的另一名调查人员认定属实。".to_string()
            ))
        );
        let second = support::signed_in_as(&app, "investigator2").await;
        let (_, detail) = get(&second, &app, &path).await;
        let (_, location, _) = post(
            &second,
            &app,
            &detail,
            &step,
            &[
                ("to", "substantiated"),
                ("reason", "经查属实"),
                ("action", "给予当事人党内警告处分"),
            ],
        )
        .await;
        assert!(
            matches!(support::flash(&second, &app, &location).await, Some(Ok(_))),
            "{location}"
        );
        let report = app.store.report(stored[0].id).await.unwrap().unwrap();
        assert_eq!(report.state, ReportState::Substantiated);
        assert_eq!(
            report.disciplinary_action.as_deref(),
            Some("给予当事人党内警告处分")
        );
        let events = app.store.report_events(report.id).await.unwrap();
        assert_eq!(events.len(), 2);
        let actors: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(actors, ["investigator", "investigator2"]);
        assert!(events.iter().all(|e| !e.reason.is_empty()));
        let (_, detail) = get(&investigator, &app, &path).await;
        assert!(detail.contains("转区纪委监委第三纪检组核查") && detail.contains("经查属实"));

        // The reporter sees the status and dates, never the investigators' notes.
        let (_, track) = get(
            &citizen,
            &app,
            &format!("/reports/track?code={code}&lang=zh"),
        )
        .await;
        assert_eq!(text_of(&track, "status"), "已查实");
        assert!(!track.contains("经查属实") && !track.contains("党内警告"));

        // Staff key in a hotline report from the console.
        let (_, list) = get(&investigator, &app, "/console/reports").await;
        let (_, location, _) = post(
            &investigator,
            &app,
            &list,
            "/console/reports/intake",
            &[
                ("source", "hotline"),
                ("unit_id", &unit),
                (
                    "description",
                    "来电反映该科室要求提供法律未规定的证明材料。",
                ),
            ],
        )
        .await;
        assert!(
            matches!(
                support::flash(&investigator, &app, &location).await,
                Some(Ok(_))
            ),
            "{location}"
        );
        assert_eq!(app.store.reports(None).await.unwrap().len(), 2);

        // The public statistics count the substantiated report.
        let stats: Value = app
            .client
            .get(app.url("/api/v1/statistics"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stats["total"]["substantiated_reports"], 1);
    }
);

/// The text of a PDF, by poppler's pdftotext.
async fn step(app: &TestApp, round: i64, to: &str) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/rounds/{round}/transition")))
        .bearer_auth(app.token(Role::Organizer))
        .json(&json!({"to": to}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{to}");
}

both!(
    the_organizer_confirms_sanctions_in_the_console_and_the_leader_sees_who_is_frozen,
    |app: TestApp| async move {
        // The district's 食品经营许可科 has its head 赵科长 and leader 钱副局长.
        let people = app.store.people().await.unwrap();
        let head = people.iter().find(|p| p.name == "赵科长").unwrap().clone();
        let q3 = app.closed_round.0;
        step(&app, q3, "finalized").await;
        step(&app, q3, "published").await;

        let organizer = signed_in(&app, Role::Organizer).await;
        let path = format!("/console/rounds/{q3}/sanctions?lang=zh");
        let (status, page) = get(&organizer, &app, &path).await;
        assert_eq!(status, 200);
        assert_eq!(text_of(&page, "pending"), "5");
        assert!(page.contains("赵科长") && page.contains("约谈") && page.contains("暂缓提拔"));

        let sanctions = app.store.sanctions(app.closed_round).await.unwrap();
        let freeze = sanctions
            .iter()
            .find(|s| s.proposal.kind.as_str() == "promotion_freeze")
            .unwrap();
        let talk = sanctions
            .iter()
            .find(|s| s.proposal.kind.as_str() == "reminder_talk")
            .unwrap();
        let decide = |id: i64, decision: &'static str, reason: &'static str| {
            let organizer = organizer.clone();
            let page = page.clone();
            let app = &app;
            async move {
                post(
                    &organizer,
                    app,
                    &page,
                    &format!("/console/sanctions/{id}/decision"),
                    &[
                        ("decision", decision),
                        ("reason", reason),
                        ("decision_ref", "区委常委会会议纪要〔2026〕12号"),
                        ("round", &q3.to_string()),
                    ],
                )
                .await
            }
        };
        let (_, location, _) = decide(freeze.id, "confirm", "已报组织部备案").await;
        assert!(
            matches!(
                support::flash(&organizer, &app, &location).await,
                Some(Ok(_))
            ),
            "{location}"
        );
        let (_, location, _) = decide(talk.id, "reject", "分管领导已调离").await;
        assert!(
            matches!(
                support::flash(&organizer, &app, &location).await,
                Some(Ok(_))
            ),
            "{location}"
        );
        // A decision cannot be taken twice.
        let (_, location, _) = decide(freeze.id, "reject", "改变主意").await;
        assert!(
            matches!(
                support::flash(&organizer, &app, &location).await,
                Some(Err(_))
            ),
            "{location}"
        );
        let (_, page) = get(&organizer, &app, &path).await;
        assert_eq!(text_of(&page, "pending"), "3");
        assert!(page.contains("已报组织部备案") && page.contains("分管领导已调离"));

        // The leader reads the list but gets no decision forms, and cannot post one.
        let boss = signed_in(&app, Role::Leader).await;
        let (status, seen) = get(&boss, &app, &path).await;
        assert_eq!(status, 200);
        assert!(!seen.contains("/decision"));
        let other = sanctions
            .iter()
            .find(|s| s.proposal.kind.as_str() == "interview")
            .unwrap();
        let (status, _, _) = post(
            &boss,
            &app,
            &seen,
            &format!("/console/sanctions/{}/decision", other.id),
            &[("decision", "confirm"), ("reason", "x"), ("round", "1")],
        )
        .await;
        assert_eq!(status, 403);

        // Everyone frozen now, and the calendar's answer with its reason.
        let (status, calendar) = get(&boss, &app, "/console/promotion?lang=zh").await;
        assert_eq!(status, 200);
        assert!(calendar.contains("赵科长") && !calendar.contains("id=\"none-frozen\""));
        let until = freeze.proposal.until.unwrap();
        let ask = format!("/console/promotion?person={}&on={until}&lang=zh", head.id.0);
        let (_, answer) = get(&boss, &app, &ask).await;
        assert!(answer.contains("不得提拔") && answer.contains("top_n_promotion_freeze"));
        let after = until.succ_opt().unwrap();
        let ask = format!("/console/promotion?person={}&on={after}&lang=zh", head.id.0);
        let (_, answer) = get(&boss, &app, &ask).await;
        assert!(answer.contains("可以提拔"), "the day after the freeze");
        let frozen: Value = app
            .client
            .get(app.url("/api/v1/promotion/frozen"))
            .bearer_auth(app.token(Role::Leader))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(frozen.as_array().unwrap().len(), 1);
        assert_eq!(frozen[0]["person_id"], head.id.0);
        assert_eq!(frozen[0]["until"], until.to_string());

        // The circulation notice lists the top units with their main problems.
        let r = boss
            .get(app.url(&format!("/console/rounds/{q3}/notice.pdf")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        // Lines wrap anywhere in Chinese text: compare without the layout's white space.
        let text: String = pdf_text(&r.bytes().await.unwrap())
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for expected in [
            "关于2026年第3季度“最难办事科室”群众评议结果的通报",
            "〔2026〕2号",
            "1区市场监管局食品经营许可科冷（1人次）",
            "谈话提醒",
        ] {
            assert!(text.contains(expected), "{expected} in:\n{text}");
        }
        let open = format!("/api/v1/rounds/{}/notice.pdf", app.open_round);
        let r = app
            .client
            .get(app.url(&open))
            .bearer_auth(app.token(Role::Organizer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "an open round has no notice yet");

        // The statistics page counts what was executed, not what was rejected or pending.
        let (status, stats) = get(&support::client(), &app, "/statistics?lang=zh").await;
        assert_eq!(status, 200);
        let total = text_of(&stats, "total");
        assert!(total.contains("合计"), "{total}");
        let api: Value = app
            .client
            .get(app.url("/api/v1/statistics"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(api["total"]["promotion_freezes"], 1);
        assert_eq!(
            api["total"]["deferred_promotions"], 0,
            "a freeze imposed is not a promotion deferred"
        );
        assert_eq!(api["total"]["reminder_talks"], 0);

        // The head comes up for promotion within the freeze: the organizer records the check,
        // and the statistics count one promotion deferred (暂缓提拔).
        let ask = format!("/console/promotion?person={}&lang=zh", head.id.0);
        let (_, page) = get(&organizer, &app, &ask).await;
        assert!(
            page.contains("id=\"record-check\""),
            "the organizer records checks"
        );
        let (_, seen) = get(&boss, &app, &ask).await;
        assert!(!seen.contains("id=\"record-check\""), "a leader reads them");
        let (_, location, _) = post(
            &organizer,
            &app,
            &page,
            "/console/promotion/checks",
            &[
                ("person", &head.id.0.to_string()),
                ("on", &app.state.today().to_string()),
                ("note", "拟提拔为区市场监管局副局长"),
            ],
        )
        .await;
        assert!(
            matches!(
                support::flash(&organizer, &app, &location).await,
                Some(Ok(_))
            ),
            "{location}"
        );
        let (_, page) = get(&organizer, &app, &ask).await;
        assert!(page.contains("拟提拔为区市场监管局副局长") && page.contains("暂缓提拔"));
        let api: Value = app
            .client
            .get(app.url("/api/v1/statistics"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(api["total"]["deferred_promotions"], 1);
        assert_eq!(api["total"]["interviews"], 0);
        assert_eq!(api["total"]["rounds"], 2, "2026Q2 and 2026Q3 are published");
    }
);

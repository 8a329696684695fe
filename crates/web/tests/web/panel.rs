//! The panel registry, on SQLite and on PostgreSQL: an organizer imports a file through the
//! console (with a preview) or rows through the API, row by row; bad rows come back with
//! their row numbers and reasons, nothing valid is lost, a second import adds nothing,
//! deactivated members stay listed, and the export holds everyone. Nobody else sees any
//! of it.

use crate::support;

use base64::Engine;
use minping_domain::{
    Role,
    panel::import::{Table, read_sheet},
};
use minping_storage::MemberFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::TestApp;

const HEADER: &str = "姓名,类别,地址,邮编,电话,办理过业务的科室,来源";

/// Four valid people and three refused rows (rows 3, 6 and 8).
fn registry_csv() -> String {
    [
        HEADER,
        "李明,企业和市场主体,南川区金佛大道1号,408400,13808380001,不动产登记中心、企业注册科,政务服务大厅",
        "王芳,办事群众,南川区西城街道,408400,12345,,",
        "张伟,individual,南川区北固镇,408400,023-71412345,企业注册科,",
        "赵敏,deputy,南川区人大,408400,13900000004,,",
        "钱多多,外星人,南川区,408400,13900000005,,",
        "孙丽,community,南川区东城街道,408400,+86 139 0000 0006,,社区推荐",
        "李明,individual,另一个地址,408400,138-0838-0001,,",
    ]
    .join("\r\n")
}

/// A multipart body with the fields in order; a field with a file name is a file.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----minping-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, file, content) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The value of a hidden field or attribute in a page.
fn attr(html: &str, prefix: &str) -> Option<String> {
    let at = html.find(prefix)? + prefix.len();
    let end = html[at..].find('"')? + at;
    Some(html[at..end].to_string())
}

/// The organizer's console client: signed in by token, with the CSRF cookie and token.
async fn organizer(app: &TestApp) -> (reqwest::Client, String) {
    let c = support::client();
    let page = c
        .get(app.url("/console/panel"))
        .bearer_auth(app.token(Role::Organizer))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let token = attr(&html, "name=\"_csrf\" value=\"").expect("the page has forms");
    (c, token)
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    fields: &[(&str, Option<&str>, &[u8])],
) -> (StatusCode, String, String) {
    let (content_type, body) = multipart(fields);
    let r = c
        .post(app.url("/console/panel/import"))
        .bearer_auth(app.token(Role::Organizer))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

fn strong(html: &str, id: &str) -> usize {
    attr(html, &format!("id=\"{id}\">"))
        .and_then(|s| s.split('<').next().map(String::from))
        .unwrap()
        .parse()
        .unwrap()
}

async fn names(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = app
        .store
        .members(&MemberFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.details.name)
        .collect();
    names.sort();
    names
}

both!(
    a_file_uploaded_in_the_console_is_previewed_then_imported_row_by_row,
    |app: TestApp| async move {
        let (c, token) = organizer(&app).await;
        let file = registry_csv();

        // Preview: everything checked, nothing stored.
        let (status, _, html) = upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file", Some("名单.csv"), file.as_bytes()),
                ("preview", None, b"1"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("导入预览") || html.contains("Import preview"));
        assert_eq!(strong(&html, "imported"), 4);
        assert_eq!(strong(&html, "rejected"), 3);
        assert!(html.contains("电话“12345”格式不正确"), "{html}");
        assert!(html.contains("外星人"));
        assert!(html.contains("与第2行重复"));
        assert!(names(&app).await.is_empty(), "a preview imports nothing");

        // Importing from the preview carries the same file over.
        let carried = attr(&html, "name=\"carried\" value=\"").expect("a confirm form");
        let (status, _, html) = upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file_name", None, "名单.csv".as_bytes()),
                ("carried", None, carried.as_bytes()),
            ],
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert_eq!(strong(&html, "imported"), 4);
        assert_eq!(strong(&html, "rejected"), 3);
        assert_eq!(names(&app).await, ["孙丽", "张伟", "李明", "赵敏"]);
        for row in ["<td>3</td>", "<td>6</td>", "<td>8</td>"] {
            assert!(html.contains(row), "row number {row} shown");
        }

        // The refused rows download as a CSV with the reasons, ready to fix and re-import.
        let link = attr(&html, "href=\"data:text/csv;charset=utf-8;base64,").unwrap();
        let csv = base64::engine::general_purpose::STANDARD
            .decode(link)
            .unwrap();
        let text = String::from_utf8(csv.clone()).unwrap();
        assert!(text.contains("原因") && text.contains("王芳") && text.contains("12345"));
        let refused = read_sheet(&csv).unwrap();
        assert_eq!(refused.len(), 3);

        // The same file again: nothing new, every valid row a duplicate.
        let (_, _, html) = upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file", Some("名单.csv"), file.as_bytes()),
            ],
        )
        .await;
        assert_eq!(strong(&html, "imported"), 0);
        assert_eq!(strong(&html, "rejected"), 7);
        assert!(html.contains("与已有成员重复"));
        assert_eq!(names(&app).await.len(), 4);

        // An XLSX works the same; an empty file is refused with a reason.
        let xlsx = Table {
            header: HEADER.split(',').map(String::from).collect(),
            rows: vec![
                "周杰,individual,南川区,408400,13900000010,,"
                    .split(',')
                    .map(String::from)
                    .collect(),
            ],
        }
        .to_xlsx("名单")
        .unwrap();
        let (_, _, html) = upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file", Some("more.xlsx"), &xlsx),
            ],
        )
        .await;
        assert_eq!(strong(&html, "imported"), 1);
        assert!(
            !html.contains("data:text/csv"),
            "nothing refused, nothing to download"
        );
        let (status, location, _) = upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file", Some("empty.csv"), b""),
            ],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(location, "/console/panel");
        assert!(matches!(
            support::flash_as(&c, &app, &location, Some(app.token(Role::Organizer))).await,
            Some(Err(_))
        ));
        assert_eq!(names(&app).await.len(), 5);
    }
);

both!(
    an_upload_without_its_csrf_token_first_is_refused,
    |app: TestApp| async move {
        let (c, token) = organizer(&app).await;
        let file = registry_csv();
        for fields in [
            vec![("file", Some("a.csv"), file.as_bytes())],
            vec![
                ("file", Some("a.csv"), file.as_bytes()),
                ("_csrf", None, token.as_bytes()),
            ],
            vec![
                (
                    "_csrf",
                    None,
                    b"0123456789abcdef0123456789abcdef".as_slice(),
                ),
                ("file", Some("a.csv"), file.as_bytes()),
            ],
        ] {
            let (status, _, _) = upload(&app, &c, &fields).await;
            assert_eq!(status, 403);
        }
        assert!(names(&app).await.is_empty());
    }
);

both!(
    the_api_imports_rows_and_reports_each_refused_one,
    |app: TestApp| async move {
        let org = app.token(Role::Organizer);
        let rows = json!([
            {"name": "李明", "group": "enterprise", "address": "南川区金佛大道1号", "postcode": "408400", "phone": "13808380001", "units": "不动产登记中心"},
            {"name": "王芳", "group": "individual", "address": "南川区", "postcode": "408400", "phone": "12345"},
            {"name": "张伟", "group": "办事群众", "address": "南川区北固镇", "postcode": "408400", "phone": "023-71412345"},
            {"group": "individual", "address": "南川区", "postcode": "408400", "phone": "13900000009"},
        ]);
        let post = |dry_run: bool| {
            app.client
                .post(app.url("/api/v1/panel/members"))
                .bearer_auth(org)
                .json(&json!({"rows": rows, "dry_run": dry_run}))
                .send()
        };
        let r = post(true).await.unwrap();
        assert_eq!(r.status(), 200);
        let dry: Value = r.json().await.unwrap();
        assert_eq!(dry["imported"], 2);
        assert_eq!(dry["dry_run"], true);
        assert!(names(&app).await.is_empty());

        let report: Value = post(false).await.unwrap().json().await.unwrap();
        assert_eq!(report["imported"], 2);
        let rejected = report["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0]["row"], 2);
        assert!(
            rejected[0]["reason"]
                .as_str()
                .unwrap()
                .contains("bad phone")
        );
        assert_eq!(rejected[1]["row"], 4);
        assert!(rejected[1]["reason"].as_str().unwrap().contains("姓名"));

        let again: Value = post(false).await.unwrap().json().await.unwrap();
        assert_eq!(again["imported"], 0);
        let reasons: Vec<&str> = again["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect();
        assert_eq!(reasons.len(), 4);
        assert_eq!(
            reasons.iter().filter(|r| r.contains("duplicate")).count(),
            2
        );

        let list = |query: &str| {
            app.client
                .get(app.url(&format!("/api/v1/panel/members{query}")))
                .bearer_auth(org)
                .send()
        };
        let all: Value = list("").await.unwrap().json().await.unwrap();
        assert_eq!(all["total"], 2);
        assert_eq!(all["per_page"], 50);
        let found: Value = list("?search=71412345")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["total"], 1);
        assert_eq!(found["members"][0]["name"], "张伟");
        assert_eq!(found["members"][0]["group"], "individual");
        let by_group: Value = list("?group=企业和市场主体")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(by_group["members"][0]["name"], "李明");
        assert_eq!(list("?group=nobody").await.unwrap().status(), 422);

        // Deactivating keeps the member, inactive, with the day and the reason.
        let id = found["members"][0]["id"].as_i64().unwrap();
        let deactivate = |id: i64, body: Value| {
            app.client
                .post(app.url(&format!("/api/v1/panel/members/{id}/deactivate")))
                .bearer_auth(org)
                .json(&body)
                .send()
        };
        assert_eq!(
            deactivate(id, json!({"reason": "other"}))
                .await
                .unwrap()
                .status(),
            422,
            "other needs a note"
        );
        assert_eq!(
            deactivate(id + 1000, json!({"reason": "moved"}))
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            deactivate(id, json!({"reason": "moved"}))
                .await
                .unwrap()
                .status(),
            204
        );
        let active: Value = list("?active=true").await.unwrap().json().await.unwrap();
        assert_eq!(active["total"], 1);
        let all: Value = list("").await.unwrap().json().await.unwrap();
        assert_eq!(all["total"], 2);
        let gone = all["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap();
        assert_eq!(gone["active"], false);
        assert_eq!(gone["left_reason"], "moved");
        assert!(gone["left_on"].is_string());
    }
);

both!(
    a_member_deactivated_in_the_console_stays_listed_and_the_export_holds_everyone,
    |app: TestApp| async move {
        let (c, token) = organizer(&app).await;
        let file = registry_csv();
        upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file", Some("名单.csv"), file.as_bytes()),
            ],
        )
        .await;
        let members = app.store.members(&MemberFilter::default()).await.unwrap();
        let zhang = members.iter().find(|m| m.details.name == "张伟").unwrap();
        let r = c
            .post(app.url(&format!("/console/panel/members/{}/deactivate", zhang.id)))
            .bearer_auth(app.token(Role::Organizer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([
                    ("_csrf", token.as_str()),
                    ("reason", "asked"),
                    ("note", ""),
                ])
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(matches!(
            support::flash_as(&c, &app, &location, Some(app.token(Role::Organizer))).await,
            Some(Ok(_))
        ));

        let get = |path: &'static str| {
            c.get(app.url(path))
                .bearer_auth(app.token(Role::Organizer))
                .header("accept-language", "zh-CN")
                .send()
        };
        let page = get("/console/panel").await.unwrap();
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("张伟") && html.contains("已退出") && html.contains("本人要求退出"));
        assert_eq!(strong(&html, "panel-total"), 4);
        assert_eq!(strong(&html, "panel-active"), 3);
        let active_only = get("/console/panel?active=1&search=%E5%BC%A0")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(strong(&active_only, "panel-matching"), 0);

        let csv = get("/console/panel/export.csv").await.unwrap();
        assert_eq!(csv.status(), 200);
        assert!(
            csv.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let text = String::from_utf8(csv.bytes().await.unwrap().to_vec()).unwrap();
        for name in ["李明", "张伟", "赵敏", "孙丽"] {
            assert!(text.contains(name), "{name} exported");
        }
        assert!(text.contains("已退出"));
        let xlsx = get("/console/panel/export.xlsx").await.unwrap();
        assert_eq!(xlsx.status(), 200);
        let rows = read_sheet(&xlsx.bytes().await.unwrap()).unwrap();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().any(|r| r.draft.phone == "023-71412345"));
    }
);

both!(
    no_other_role_and_nobody_signed_out_sees_a_panel_member,
    |app: TestApp| async move {
        let (c, token) = organizer(&app).await;
        upload(
            &app,
            &c,
            &[
                ("_csrf", None, token.as_bytes()),
                ("file", Some("名单.csv"), registry_csv().as_bytes()),
            ],
        )
        .await;
        let paths = [
            "/console/panel",
            "/console/panel/export.csv",
            "/console/panel/export.xlsx",
            "/api/v1/panel/members",
        ];
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Organizer) {
            for path in paths {
                let r = support::client()
                    .get(app.url(path))
                    .bearer_auth(app.token(role))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 403, "{path} as {role:?}");
                let body = r.text().await.unwrap();
                assert!(!body.contains("李明") && !body.contains("13808380001"));
            }
        }
        for path in paths {
            let r = support::client().get(app.url(path)).send().await.unwrap();
            assert!(
                r.status() == 303 || r.status() == 401,
                "{path} signed out → {}",
                r.status()
            );
        }
    }
);

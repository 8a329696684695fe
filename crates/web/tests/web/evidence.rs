//! Evidence files (证据材料) on reports: sent with the public form (or keyed in by staff),
//! checked by their bytes, stored with the report, downloaded by investigators and the
//! organizer only, on SQLite and PostgreSQL.

use crate::support;

use minping_domain::Role;
use reqwest::multipart::{Form, Part};
use support::{TestApp, form_token, text_of};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
const DESCRIPTION: &str = "办理营业执照时，窗口工作人员收了购物卡才受理，附照片和收据。";

/// A client holding the CSRF cookie, and the token of the form at `path`; signed in with
/// `role`'s API token if given.
async fn open_form(app: &TestApp, path: &str, role: Option<Role>) -> (reqwest::Client, String) {
    let client = support::client();
    let mut req = client.get(app.url(path));
    if let Some(role) = role {
        req = req.bearer_auth(app.token(role));
    }
    let html = req.send().await.unwrap().text().await.unwrap();
    (client, form_token(&html))
}

/// A report form: the token first (when given), the fields, then the files as
/// (name, claimed type, bytes).
fn report_form(
    token: Option<&str>,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Form {
    let mut form = Form::new();
    if let Some(token) = token {
        form = form.text("_csrf", token.to_string());
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    for (file_name, claimed, bytes) in files {
        let part = Part::bytes(bytes.to_vec())
            .file_name(file_name.to_string())
            .mime_str(claimed)
            .unwrap();
        form = form.part("evidence", part);
    }
    form
}

/// Sends a multipart form; returns status, location and body.
async fn send(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    role: Option<Role>,
    form: Form,
) -> (u16, String, String) {
    let mut req = client.post(app.url(path)).multipart(form);
    if let Some(role) = role {
        req = req.bearer_auth(app.token(role));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// Downloads a path as `role` (or nobody): status, headers, bytes.
async fn download(
    app: &TestApp,
    path: &str,
    role: Option<Role>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(app.url(path));
    if let Some(role) = role {
        req = req.bearer_auth(app.token(role));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

both!(
    a_citizen_sends_a_photo_and_a_pdf_and_investigators_download_the_same_bytes,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let form_page = app
            .client
            .get(app.url("/reports/new?lang=zh"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(form_page.contains("enctype=\"multipart/form-data\""));
        assert!(form_page.contains("type=\"file\" name=\"evidence\" multiple"));

        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        // The types the browser claims are ignored: the bytes decide.
        let form = report_form(
            Some(&token),
            &[("unit_id", &unit), ("description", DESCRIPTION)],
            &[
                ("现场照片.png", "application/octet-stream", PNG),
                ("C:\\扫描\\收据.pdf", "text/html", PDF),
            ],
        );
        let (status, _, filed) = send(&citizen, &app, "/reports/new?lang=zh", None, form).await;
        assert_eq!(status, 200, "{filed}");
        let code = text_of(&filed, "tracking-code");
        let report = app.store.reports(None).await.unwrap()[0].id;

        // The reporter's tracking page shows the status, never the files.
        let (_, _, track) = download(&app, &format!("/reports/track?code={code}"), None).await;
        let track = String::from_utf8(track).unwrap();
        assert!(track.contains("id=\"status\""));
        assert!(!track.contains("现场照片") && !track.contains("evidence"));

        let detail = format!("/console/reports/{report}");
        let (status, _, page) = download(&app, &detail, Some(Role::Investigator)).await;
        assert_eq!(status, 200);
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.contains("现场照片.png") && page.contains("收据.pdf"),
            "{page}"
        );
        let files = app.store.evidence(report).await.unwrap();
        assert_eq!(files.len(), 2);
        for (file, (bytes, content_type, encoded)) in files.iter().zip([
            (PNG, "image/png", "%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"),
            (PDF, "application/pdf", "%E6%94%B6%E6%8D%AE.pdf"),
        ]) {
            let path = format!("{detail}/evidence/{}", file.id);
            assert!(page.contains(&format!("href=\"{path}\"")));
            for role in [Role::Investigator, Role::Organizer] {
                let (status, headers, body) = download(&app, &path, Some(role)).await;
                assert_eq!((status, body.as_slice()), (200, bytes), "{role:?}");
                assert_eq!(headers["content-type"], content_type);
                assert_eq!(headers["x-content-type-options"], "nosniff");
                let disposition = headers["content-disposition"].to_str().unwrap();
                assert!(disposition.starts_with("attachment;"), "{disposition}");
                assert!(
                    disposition.ends_with(&format!("filename*=UTF-8''{encoded}")),
                    "{disposition}"
                );
            }
            for role in [Role::Unit, Role::Leader, Role::Clerk] {
                assert_eq!(download(&app, &path, Some(role)).await.0, 403, "{role:?}");
            }
            let (status, headers, _) = download(&app, &path, None).await;
            assert_eq!(status, 303);
            assert!(headers["location"].to_str().unwrap().starts_with("/login"));
        }
        // A file is found under its own report only.
        let elsewhere = format!("/console/reports/{}/evidence/{}", report + 1, files[0].id);
        assert_eq!(
            download(&app, &elsewhere, Some(Role::Investigator)).await.0,
            404
        );
    }
);

both!(
    a_file_that_is_not_a_photo_pdf_or_recording_is_refused_whatever_its_name,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        let exe: &[u8] =
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0This program cannot be run in DOS mode.";
        let text = "他暗示我请客吃饭".as_bytes();
        for (name, bytes) in [("现场照片.png", exe), ("聊天记录.png", text)] {
            let form = report_form(
                Some(&token),
                &[
                    ("unit_id", &unit),
                    ("description", DESCRIPTION),
                    ("staff", "窗口2号"),
                ],
                &[
                    ("收据.pdf", "application/pdf", PDF),
                    (name, "image/png", bytes),
                ],
            );
            let (status, _, again) = send(&citizen, &app, "/reports/new?lang=zh", None, form).await;
            assert_eq!(status, 422, "{name}");
            let error = text_of(&again, "errors");
            assert!(
                error.contains("只能附JPG、PNG图片") && error.contains(name),
                "{error}"
            );
            assert!(
                again.contains("附件需要重新选择"),
                "the files must be chosen again"
            );
            assert!(
                again.contains("窗口2号") && again.contains(DESCRIPTION),
                "typed text is kept"
            );
        }
        let form = report_form(
            Some(&token),
            &[("unit_id", &unit), ("description", DESCRIPTION)],
            &[("virus.exe", "image/png", exe)],
        );
        let (status, _, again) = send(&citizen, &app, "/reports/new?lang=en", None, form).await;
        assert_eq!(status, 422);
        assert!(
            text_of(&again, "errors").contains("Only JPG or PNG images, PDF files"),
            "in English too"
        );
        assert!(
            app.store.reports(None).await.unwrap().is_empty(),
            "nothing stored"
        );
    }
);

both!(
    more_than_five_files_or_a_file_over_ten_mib_is_refused_and_nothing_stored,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        let fields = [("unit_id", unit.as_str()), ("description", DESCRIPTION)];
        let six: Vec<(&str, &str, &[u8])> = vec![("照片.png", "image/png", PNG); 6];
        let (status, _, again) = send(
            &citizen,
            &app,
            "/reports/new?lang=zh",
            None,
            report_form(Some(&token), &fields, &six),
        )
        .await;
        assert_eq!(status, 422);
        assert!(text_of(&again, "errors").contains("最多只能附5个文件"));

        let mut large = PNG.to_vec();
        large.resize(10 * 1024 * 1024 + 1, 0);
        let (status, _, again) = send(
            &citizen,
            &app,
            "/reports/new?lang=en",
            None,
            report_form(
                Some(&token),
                &fields,
                &[("大照片.png", "image/png", &large)],
            ),
        )
        .await;
        assert_eq!(status, 422);
        let error = text_of(&again, "errors");
        assert!(
            error.contains("at most 10 MB") && error.contains("大照片.png"),
            "{error}"
        );
        assert!(
            app.store.reports(None).await.unwrap().is_empty(),
            "nothing stored"
        );

        // Five files are fine.
        let five: Vec<(&str, &str, &[u8])> = vec![("照片.png", "image/png", PNG); 5];
        let (status, _, _) = send(
            &citizen,
            &app,
            "/reports/new",
            None,
            report_form(Some(&token), &fields, &five),
        )
        .await;
        assert_eq!(status, 200);
        let report = app.store.reports(None).await.unwrap()[0].id;
        assert_eq!(app.store.evidence(report).await.unwrap().len(), 5);
    }
);

both!(
    a_form_with_files_needs_its_csrf_token_first,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        let fields = [("unit_id", unit.as_str()), ("description", DESCRIPTION)];
        let files: &[(&str, &str, &[u8])] = &[("照片.png", "image/png", PNG)];
        let forged = "0".repeat(32);
        for token in [None, Some(forged.as_str())] {
            let form = report_form(token, &fields, files);
            let (status, _, _) = send(&citizen, &app, "/reports/new", None, form).await;
            assert_eq!(status, 403, "{token:?}");
        }
        // The right token, but after the file: refused before the file is read.
        let late = report_form(None, &fields, files).text("_csrf", token.clone());
        assert_eq!(
            send(&citizen, &app, "/reports/new", None, late).await.0,
            403
        );
        // Without the cookie the token proves nothing.
        let form = report_form(Some(&token), &fields, files);
        assert_eq!(
            send(&support::client(), &app, "/reports/new", None, form)
                .await
                .0,
            403
        );
        assert!(app.store.reports(None).await.unwrap().is_empty());

        // Staff intake too.
        let (staff, _) = open_form(&app, "/console/reports", Some(Role::Investigator)).await;
        let form = report_form(None, &[("source", "letter")], files);
        let (status, _, _) = send(
            &staff,
            &app,
            "/console/reports/intake",
            Some(Role::Investigator),
            form,
        )
        .await;
        assert_eq!(status, 403);
    }
);

both!(
    staff_key_in_a_letter_with_its_scan,
    |app: TestApp| async move {
        let unit = app.unit("食品经营许可科").0.to_string();
        let (staff, token) = open_form(&app, "/console/reports", Some(Role::Investigator)).await;
        let form = report_form(
            Some(&token),
            &[
                ("source", "letter"),
                ("unit_id", &unit),
                (
                    "description",
                    "来信反映：经办人员收受购物卡后才予受理，附信件扫描件。",
                ),
            ],
            &[("来信扫描.pdf", "application/pdf", PDF)],
        );
        let (status, location, _) = send(
            &staff,
            &app,
            "/console/reports/intake",
            Some(Role::Investigator),
            form,
        )
        .await;
        assert_eq!(status, 303);
        assert!(
            matches!(
                support::flash_as(&staff, &app, &location, Some(app.token(Role::Investigator)))
                    .await,
                Some(Ok(_))
            ),
            "{location}"
        );
        let report = app.store.reports(None).await.unwrap()[0].id;
        let files = app.store.evidence(report).await.unwrap();
        assert_eq!(
            (files.len(), files[0].file_name.as_str()),
            (1, "来信扫描.pdf")
        );

        // A refused file comes back as the list's error, in the page's language.
        let form = report_form(
            Some(&token),
            &[
                ("source", "visit"),
                ("unit_id", &unit),
                ("description", "来访反映：窗口人员故意刁难，附聊天记录。"),
            ],
            &[("聊天记录.png", "image/png", b"not an image".as_slice())],
        );
        let (status, location, _) = send(
            &staff,
            &app,
            "/console/reports/intake?lang=zh",
            Some(Role::Investigator),
            form,
        )
        .await;
        assert_eq!(status, 303);
        let shown = support::flash_as(
            &staff,
            &app,
            &format!("{location}?lang=zh"),
            Some(app.token(Role::Investigator)),
        )
        .await;
        let Some(Err(error)) = shown else {
            panic!("an error: {shown:?}")
        };
        assert!(
            error.contains("只能附JPG") && error.contains("聊天记录.png"),
            "{error}"
        );
        assert_eq!(app.store.reports(None).await.unwrap().len(), 1);
    }
);

both!(
    files_over_twenty_mib_together_are_refused_even_past_the_upload_limit,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        let fields = [("unit_id", unit.as_str()), ("description", DESCRIPTION)];
        let mut photo = PNG.to_vec();
        photo.resize(7_000_000, 0);
        // Three are over what files may be together but under the upload limit; four go
        // past the limit, and the form still comes back with what was typed.
        for n in [3, 4] {
            let files: Vec<(&str, &str, &[u8])> = vec![("照片.png", "image/png", &photo); n];
            let (status, _, again) = send(
                &citizen,
                &app,
                "/reports/new?lang=zh",
                None,
                report_form(Some(&token), &fields, &files),
            )
            .await;
            assert_eq!(status, 422, "{n} files");
            assert!(text_of(&again, "errors").contains("合计不能超过20MB"));
            assert!(again.contains(DESCRIPTION));
        }
        assert!(
            app.store.reports(None).await.unwrap().is_empty(),
            "nothing stored"
        );

        // A file input left empty sends an empty part, which is no file.
        let form = report_form(
            Some(&token),
            &fields,
            &[("", "application/octet-stream", b"".as_slice())],
        );
        assert_eq!(
            send(&citizen, &app, "/reports/new", None, form).await.0,
            200
        );
        let report = app.store.reports(None).await.unwrap()[0].id;
        assert!(app.store.evidence(report).await.unwrap().is_empty());
    }
);

both!(
    evidence_is_kept_as_owner_only_files_outside_the_database,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        let form = report_form(
            Some(&token),
            &[("unit_id", &unit), ("description", DESCRIPTION)],
            &[("现场照片.png", "image/png", PNG)],
        );
        let (status, _, filed) = send(&citizen, &app, "/reports/new", None, form).await;
        assert_eq!(status, 200, "{filed}");
        let report = app.store.reports(None).await.unwrap()[0].id;
        let file = &app.store.evidence(report).await.unwrap()[0];
        let path = app.dir.path().join("evidence").join(&file.sha256);
        assert_eq!(std::fs::read(&path).unwrap(), PNG);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&app.dir.path().join("evidence")), 0o700);
        }
        let stored: Vec<(i64,)> = support::raw(
            &app,
            &format!(
                "SELECT CAST(LENGTH(content) AS BIGINT) FROM report_evidence WHERE id = {}",
                file.id
            ),
        )
        .await;
        assert_eq!(stored, [(0,)], "the database keeps no content");
        let (status, _, body) = download(
            &app,
            &format!("/console/reports/{report}/evidence/{}", file.id),
            Some(Role::Investigator),
        )
        .await;
        assert_eq!((status, body.as_slice()), (200, PNG));
        // A file altered on disk is not handed out as the evidence it was.
        std::fs::write(&path, b"altered").unwrap();
        let (status, _, _) = download(
            &app,
            &format!("/console/reports/{report}/evidence/{}", file.id),
            Some(Role::Investigator),
        )
        .await;
        assert_eq!(status, 500);
    }
);

both!(
    one_address_sends_so_much_evidence_an_hour,
    limited,
    |app: TestApp| async move {
        let unit = app.unit("企业注册科").0.to_string();
        let mut photo = PNG.to_vec();
        photo.resize(9_000_000, 0);
        let files: Vec<(&str, &str, &[u8])> = vec![("照片.png", "image/png", &photo); 2];
        let mut statuses = Vec::new();
        // 18 MB a report: three fit in the hour's 60 MiB, the fourth does not.
        for i in 0..4 {
            let (citizen, token) = open_form(&app, "/reports/new", None).await;
            let description = format!("{DESCRIPTION}（第{i}次）");
            let form = report_form(
                Some(&token),
                &[("unit_id", &unit), ("description", &description)],
                &files,
            );
            let (status, _, page) = send(&citizen, &app, "/reports/new?lang=zh", None, form).await;
            statuses.push(status);
            if status == 422 {
                let errors = text_of(&page, "errors");
                assert!(errors.contains("一小时内上传的证据已达上限"), "{errors}");
                assert!(page.contains(&description), "what was typed comes back");
            }
        }
        assert_eq!(statuses, [200, 200, 200, 422]);
        assert_eq!(
            app.store.reports(None).await.unwrap().len(),
            3,
            "nothing half-stored"
        );
        // Without files the report still goes.
        let (citizen, token) = open_form(&app, "/reports/new", None).await;
        let form = report_form(
            Some(&token),
            &[("unit_id", &unit), ("description", DESCRIPTION)],
            &[],
        );
        assert_eq!(
            send(&citizen, &app, "/reports/new", None, form).await.0,
            200
        );
    }
);

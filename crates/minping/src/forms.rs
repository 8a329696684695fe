//! `minping forms`: the personalised PDF forms of a round's drawn sample in the post
//! office's order, the mailing list (CSV and XLSX) in the same order, and the open-channel
//! form for the newspaper.

use anyhow::{Context, bail};
use minping_domain::{RoundId, Settings};
use minping_pdf::Renderer;
use minping_storage::Storage;
use std::path::{Path, PathBuf};

/// What `minping forms` wrote.
#[derive(Debug)]
pub struct Written {
    /// Forms in the merged PDF.
    pub forms: usize,
    /// The files, in the order written.
    pub files: Vec<PathBuf>,
}

/// Writes the forms of a round's drawn sample into `out`, calling `progress(done, total)`.
pub async fn write(
    store: &dyn Storage,
    settings: &Settings,
    code_key: &[u8],
    round: RoundId,
    out: &Path,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Written> {
    let sample = store.sample(round).await?;
    if sample.is_empty() {
        bail!(
            "round {round} has no drawn sample: run `minping panel draw --round {round} --seed …` first"
        );
    }
    let content = minping_web::forms::content(store, settings, round).await?;
    let recipients = minping_web::forms::recipients(settings, code_key, round, &sample);
    let renderer = Renderer::new();
    let unprintable: Vec<String> = recipients
        .iter()
        .zip(&sample)
        .filter_map(|(r, s)| {
            let chars = renderer.unsupported_chars(&format!("{}{}", r.name, r.address));
            (!chars.is_empty()).then(|| format!("member {} ({}): {:?}", s.member.id, r.name, chars))
        })
        .collect();
    if !unprintable.is_empty() {
        bail!(
            "the form font cannot print these members' details; correct them in the registry:\n{}",
            unprintable.join("\n")
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let total = recipients.len();
    let pdf = renderer
        .personalised_batch(&content, &recipients, &|done| progress(done, total))
        .map_err(|e| anyhow::anyhow!("typesetting the forms: {e}"))?;
    let mut files = Vec::new();
    let forms_path = out.join(format!("round-{round}-forms.pdf"));
    std::fs::write(&forms_path, pdf)
        .with_context(|| format!("cannot write {}", forms_path.display()))?;
    files.push(forms_path);

    let open = renderer
        .open_channel(&content)
        .map_err(|e| anyhow::anyhow!("typesetting the open-channel form: {e}"))?;
    let open_path = out.join(format!("round-{round}-open-channel.pdf"));
    std::fs::write(&open_path, open)
        .with_context(|| format!("cannot write {}", open_path.display()))?;
    files.push(open_path);

    // The mailing list, in the same order as the forms (postcode, then address).
    let header = ["序号", "邮编", "地址", "姓名", "类别", "成员编号"];
    let rows: Vec<[String; 6]> = sample
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let d = &s.member.details;
            [
                (i + 1).to_string(),
                d.postcode.clone(),
                d.address.clone(),
                d.name.clone(),
                settings.panel.group_name_zh(&d.group),
                s.member.id.to_string(),
            ]
        })
        .collect();
    let mut csv = String::from("\u{feff}");
    csv.push_str(&header.join(","));
    csv.push('\n');
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let csv_path = out.join(format!("round-{round}-mailing.csv"));
    std::fs::write(&csv_path, csv)
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    files.push(csv_path);

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, cell)?;
        }
    }
    let xlsx_path = out.join(format!("round-{round}-mailing.xlsx"));
    book.save(&xlsx_path)
        .with_context(|| format!("cannot write {}", xlsx_path.display()))?;
    files.push(xlsx_path);
    Ok(Written {
        forms: total,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};
    use minping_domain::code::OneTimeCode;
    use minping_domain::{RoundLabel, panel::NewMember};
    use minping_storage::{Actor, SqliteStore};
    use std::{
        process::Command,
        sync::{Arc, Mutex},
    };

    #[tokio::test]
    async fn a_drawn_sample_gets_its_forms_and_mailing_list_in_post_office_order() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Storage> =
            Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
        let settings = Settings::default();
        let agency = store.create_agency("区民政局").await.unwrap();
        store
            .create_unit(agency.id, "殡仪馆", "科室")
            .await
            .unwrap();
        store
            .create_unit(agency.id, "婚姻登记处", "科室")
            .await
            .unwrap();
        let round = store
            .create_round(
                RoundLabel::new(2026, 4).unwrap(),
                &settings.round_settings(),
                &Actor::system(),
                Utc::now(),
            )
            .await
            .unwrap();
        let members: Vec<NewMember> = ["408433", "408400", "408421"]
            .iter()
            .enumerate()
            .map(|(i, postcode)| NewMember {
                name: format!("王{}", ["一", "二", "三"][i]),
                group: "individual".into(),
                address: format!("重庆市南川区东城街道金佛大道{}号", i + 1),
                postcode: postcode.to_string(),
                phone: format!("1380000000{i}"),
                units: vec![],
                source: String::new(),
                added_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            })
            .collect();
        store.add_members(&members).await.unwrap();
        let key = b"forms test key".to_vec();
        let state = minping_web::AppState::new(store.clone(), settings.clone(), String::new())
            .with_code_key(key.clone());
        minping_web::sampling::freeze(&state, round.id, 3)
            .await
            .unwrap();
        minping_web::sampling::draw_sample(&state, round.id, "7", &Actor::system())
            .await
            .unwrap();

        let seen = Mutex::new(Vec::new());
        let out = dir.path().join("out");
        let written = write(
            store.as_ref(),
            &settings,
            &key,
            round.id,
            &out,
            &|done, total| seen.lock().unwrap().push((done, total)),
        )
        .await
        .unwrap();
        assert_eq!(written.forms, 3);
        assert_eq!(
            seen.lock().unwrap().last(),
            Some(&(3, 3)),
            "progress reaches the end"
        );
        let csv =
            std::fs::read_to_string(out.join(format!("round-{}-mailing.csv", round.id))).unwrap();
        let postcodes: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().trim_matches('"'))
            .collect();
        assert_eq!(postcodes, ["408400", "408421", "408433"]);
        let text = Command::new("pdftotext")
            .arg(out.join(format!("round-{}-forms.pdf", round.id)))
            .arg("-")
            .output()
            .expect("pdftotext (Debian package poppler-utils) is installed");
        let text = String::from_utf8(text.stdout).unwrap();
        let member = store.sample(round.id).await.unwrap()[0].member.id;
        let code = OneTimeCode::derive(&key, round.id.0, member);
        assert!(
            text.contains(&format!("评议码：{}", code.printed())),
            "the first form carries its member's code"
        );
        assert!(text.contains("王二") && text.contains("殡仪馆"));
        assert!(
            out.join(format!("round-{}-open-channel.pdf", round.id))
                .exists()
        );
        assert!(
            out.join(format!("round-{}-mailing.xlsx", round.id))
                .exists()
        );
    }
}

//! `minping forms`: the personalised PDF forms of a round's drawn sample in the post
//! office's order, the mailing list (CSV and XLSX) in the same order, and the open-channel
//! form for the newspaper, written into a folder.

use anyhow::Context;
use minping_app::{App, forms};
use minping_domain::RoundId;
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
    app: &App,
    round: RoundId,
    out: &Path,
    actor: &minping_storage::Actor,
    progress: impl Fn(usize, usize) + Send + 'static,
) -> anyhow::Result<Written> {
    let mailing = forms::mailing_list(app, round, false, actor)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}: run `minping panel draw --round {round} --seed …` first if nothing was drawn"
            )
        })?;
    let pdf = forms::personalised(app, round, actor, progress).await?;
    let open = forms::open_channel(app, round).await?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let xlsx = mailing.to_xlsx("邮寄名单")?;
    let files = [
        (format!("round-{round}-forms.pdf"), pdf),
        (format!("round-{round}-open-channel.pdf"), open),
        (format!("round-{round}-mailing.csv"), mailing.to_csv()),
        (format!("round-{round}-mailing.xlsx"), xlsx),
    ];
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = out.join(name);
        crate::write_owner_only(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(Written {
        forms: mailing.rows.len(),
        files: written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use minping_app::{Config, draws, org, rounds};
    use minping_domain::{AgencyId, code::OneTimeCode, panel::NewMember};
    use minping_storage::Actor;
    use std::{
        process::Command,
        sync::{Arc, Mutex},
    };

    #[tokio::test]
    async fn a_drawn_sample_gets_its_forms_and_mailing_list_in_post_office_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("code.key"),
            hex::encode(b"forms test key 16"),
        )
        .unwrap();
        let app = App::open(Config::load(dir.path(), None).unwrap())
            .await
            .unwrap();
        let agency: AgencyId = org::create_agency(&app, "区民政局", &Actor::system())
            .await
            .unwrap()
            .id;
        org::create_unit(&app, agency, "殡仪馆", None, &Actor::system())
            .await
            .unwrap();
        org::create_unit(&app, agency, "婚姻登记处", None, &Actor::system())
            .await
            .unwrap();
        let round = rounds::create(&app, "2026Q4", &Actor::system())
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
        app.store()
            .add_members(&members, &Actor::system(), app.now())
            .await
            .unwrap();
        let key = b"forms test key 16".to_vec();
        draws::freeze(&app, round.id, Some(3), &Actor::system())
            .await
            .unwrap();
        draws::draw_sample(&app, round.id, "7", &Actor::system())
            .await
            .unwrap();

        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = dir.path().join("out");
        let progress = seen.clone();
        let written = write(
            &app,
            round.id,
            &out,
            &Actor::system(),
            move |done, total| progress.lock().unwrap().push((done, total)),
        )
        .await
        .unwrap();
        assert_eq!(written.forms, 3);
        #[cfg(unix)]
        for file in &written.files {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{}: {mode:o}", file.display());
        }
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
        let member = app.store().sample(round.id).await.unwrap()[0].member.id;
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

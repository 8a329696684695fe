//! `minping panel import FILE [--dry-run]` and `minping panel export FILE`: the panel
//! registry from and to a spreadsheet.
//!
//! An import is row by row (see [`minping_domain::panel::import`]): every valid row is
//! imported, every refused row is printed with its row number and reason and written to
//! `FILE.rejected.csv` beside the file (same columns plus 原因), to fix and import again.
//! `--dry-run` checks everything (including who is registered already) and imports nothing.

use anyhow::Context;
use minping_app::{App, panel};
use minping_domain::panel::import::ImportReport;
use std::path::{Path, PathBuf};

/// Where the refused rows of `file` are written: `members.xlsx` → `members.rejected.csv`.
pub fn rejected_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "panel".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}.rejected.csv"))
}

/// Imports a CSV or XLSX file row by row (or, with `dry_run`, only checks it) and writes
/// the refused rows next to it; an unreadable file is an error and imports nothing.
pub async fn import(
    app: &App,
    path: &Path,
    dry_run: bool,
    actor: &minping_storage::Actor,
) -> anyhow::Result<ImportReport> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let report = panel::import_file(app, &bytes, dry_run, actor)
        .await
        .with_context(|| format!("{} cannot be imported", path.display()))?;
    let rejected = rejected_path(path);
    if report.rejected.is_empty() {
        // A stale file from an earlier run would be mistaken for this one's.
        if rejected.exists() {
            std::fs::remove_file(&rejected)
                .with_context(|| format!("cannot remove {}", rejected.display()))?;
        }
    } else {
        crate::write_owner_only(&rejected, &report.rejected_table().to_csv())
            .with_context(|| format!("cannot write {}", rejected.display()))?;
    }
    Ok(report)
}

/// Prints what an import did, one line per refused row.
pub fn print_report(report: &ImportReport, path: &Path) {
    for r in &report.rejected {
        println!("第{}行 row {}: {}", r.row, r.row, r.reason);
    }
    let verb = if report.dry_run {
        "would import (dry run, nothing stored)"
    } else {
        "imported"
    };
    println!(
        "{verb}: {}; refused: {}",
        report.imported,
        report.rejected.len()
    );
    if !report.rejected.is_empty() {
        println!(
            "refused rows written to {} — fix them there and import that file",
            rejected_path(path).display()
        );
    }
}

/// Writes every member, inactive ones too, to `path`: XLSX if it ends in `.xlsx`, else CSV.
/// The file can be imported again as it is. Returns how many members it holds.
pub async fn export(app: &App, path: &Path) -> anyhow::Result<usize> {
    let table = panel::export(app).await?;
    let xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let bytes = if xlsx {
        table.to_xlsx("定向评议名单")?
    } else {
        table.to_csv()
    };
    crate::write_owner_only(path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(table.rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minping_app::Config;
    use minping_domain::panel::import::read_sheet;
    use minping_storage::MemberFilter;

    async fn app(dir: &Path) -> App {
        App::open(Config::load(dir, None).unwrap()).await.unwrap()
    }

    const FILE: &str = "姓名,类别,地址,邮编,电话,办理过业务的科室,来源\r\n\
        李明,企业和市场主体,南川区金佛大道1号,408400,13808380001,不动产登记中心,政务服务大厅\r\n\
        王芳,办事群众,南川区西城街道,408400,12345,,\r\n\
        张伟,办事群众,南川区北固镇,408400,023-71412345,企业注册科,\r\n\
        李明,individual,另一个地址,408400,138 0838 0001,,\r\n";

    #[tokio::test]
    async fn the_command_line_imports_row_by_row_and_a_second_run_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let file = dir.path().join("members.csv");
        std::fs::write(&file, FILE).unwrap();
        let all = MemberFilter::default();
        let count = || app.store().member_count(&all);

        let dry = import(&app, &file, true, &minping_storage::Actor::system())
            .await
            .unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.imported, 2);
        assert_eq!(count().await.unwrap(), 0, "a dry run stores nothing");

        let report = import(&app, &file, false, &minping_storage::Actor::system())
            .await
            .unwrap();
        assert_eq!(report.imported, 2);
        let rows: Vec<usize> = report.rejected.iter().map(|r| r.row).collect();
        assert_eq!(rows, [3, 5]);
        assert!(report.rejected[0].reason.to_string().contains("12345"));
        assert!(report.rejected[1].reason.to_string().contains("第2行"));
        assert_eq!(count().await.unwrap(), 2);
        let rejected = std::fs::read(rejected_path(&file)).unwrap();
        let again = read_sheet(&rejected).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].draft.name, "王芳");

        let twice = import(&app, &file, false, &minping_storage::Actor::system())
            .await
            .unwrap();
        assert_eq!(twice.imported, 0);
        assert_eq!(
            twice.rejected.len(),
            4,
            "the two members are now duplicates"
        );
        assert_eq!(count().await.unwrap(), 2);

        let out = dir.path().join("export.xlsx");
        assert_eq!(export(&app, &out).await.unwrap(), 2);
        let exported = read_sheet(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(exported[0].draft.name, "李明");
        assert_eq!(exported[1].draft.phone, "023-71412345");
        let back = import(&app, &out, false, &minping_storage::Actor::system())
            .await
            .unwrap();
        assert_eq!(
            (back.imported, back.rejected.len()),
            (0, 2),
            "an export imports again, as duplicates"
        );
    }

    #[tokio::test]
    async fn an_empty_or_headerless_file_is_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let file = dir.path().join("empty.csv");
        std::fs::write(&file, "").unwrap();
        let e = import(&app, &file, false, &minping_storage::Actor::system())
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("文件为空"), "{e:#}");
        std::fs::write(&file, "姓名,电话\n李明,13808380001\n").unwrap();
        let e = import(&app, &file, false, &minping_storage::Actor::system())
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("类别、地址、邮编"), "{e:#}");
    }
}

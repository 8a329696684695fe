//! The panel registry as a spreadsheet: reading a CSV or XLSX file into rows, checking them,
//! and writing the registry and the refused rows back out.
//!
//! # Row by row
//! An import is **row by row**: every valid row is imported, every refused row is reported
//! with its row number as the spreadsheet shows it (the header is row 1) and the reason, and
//! the refused rows come back as a CSV file with the same columns plus 原因 (reason), which
//! the clerk fixes and imports again. A bad row never aborts the file and nothing valid is
//! lost; a dry run (the console's preview) checks everything and imports nothing. Only a
//! file that cannot be read as a whole — empty, neither CSV nor a workbook, in an unknown
//! text encoding, or missing a required column — is refused, with the reason.
//!
//! Why not all-or-nothing: registry files are collected from service halls by many hands, a
//! few bad phone numbers are normal, and holding back thousands of good rows for them helps
//! nobody. Importing the same file twice is harmless: a member is one name and phone, and a
//! row whose person is already registered is refused as a duplicate.
//!
//! # The file
//! - CSV in UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK (what Excel in
//!   Chinese saves); comma, semicolon or tab separated.
//! - XLSX (or the older XLS/XLSB, or ODS): the first sheet that has a header.
//! - A header row naming the columns in Chinese or English, in any order: 姓名/name,
//!   类别/group, 地址/address, 邮编/postcode, 电话/phone (required), 办理过业务的科室/units,
//!   来源/source (optional). Other columns are ignored, so an exported registry or a
//!   refused-rows file can be imported as it is. Rows above the header (a title) and blank
//!   rows are skipped.

mod sheet;
mod table;

pub use sheet::{Field, FileError, SheetRow, read_sheet};
pub use table::{Table, WriteError, member_cells, member_header};

use super::{MemberDraft, NewMember, RowError};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::fmt;

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A field is wrong, or (as [`RowError::Duplicate`]) the person is already registered.
    Invalid(RowError),
    /// The same name and phone appear in an earlier row of the same file.
    SameAsRow(usize),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Invalid(e) => e.fmt(f),
            Reason::SameAsRow(n) => write!(
                f,
                "与第{n}行重复（同名同电话）· duplicate of row {n} (same name and phone)"
            ),
        }
    }
}

/// A refused row: where, what it held, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its row number.
    pub row: usize,
    /// The row as read.
    pub draft: MemberDraft,
    /// Why.
    pub reason: Reason,
}

/// A row that passed every check, waiting to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Its row number.
    pub row: usize,
    /// The row as read (for the refused-rows file, should the registry have it already).
    pub draft: MemberDraft,
    /// The checked member.
    pub member: NewMember,
}

/// The rows of a file, checked: the good ones and the refused ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Rows to store, in file order, each person once.
    pub accepted: Vec<Accepted>,
    /// Rows refused already.
    pub rejected: Vec<Rejected>,
}

/// Checks every row on its own; a later row with the same name and phone as an earlier one
/// is refused. `group_code` maps a group's code or name to its code.
pub fn check(
    rows: Vec<SheetRow>,
    added_on: NaiveDate,
    group_code: impl Fn(&str) -> Option<String>,
) -> Checked {
    let mut out = Checked::default();
    let mut first_row: HashMap<(String, String), usize> = HashMap::new();
    for SheetRow { row, draft } in rows {
        match draft.clone().parse(added_on, &group_code) {
            Ok(member) => {
                let key = (member.name.clone(), member.phone.clone());
                if let Some(&first) = first_row.get(&key) {
                    out.rejected.push(Rejected {
                        row,
                        draft,
                        reason: Reason::SameAsRow(first),
                    });
                } else {
                    first_row.insert(key, row);
                    out.accepted.push(Accepted { row, draft, member });
                }
            }
            Err(e) => out.rejected.push(Rejected {
                row,
                draft,
                reason: Reason::Invalid(e),
            }),
        }
    }
    out
}

impl Checked {
    /// The members to store, in order.
    pub fn members(&self) -> Vec<NewMember> {
        self.accepted.iter().map(|a| a.member.clone()).collect()
    }

    /// The outcome once the registry has answered: `is_new[i]` says whether the i-th
    /// accepted member was added (or, in a dry run, would be); the others were registered
    /// already and are refused as duplicates.
    pub fn settle(self, is_new: &[bool], dry_run: bool) -> ImportReport {
        debug_assert_eq!(is_new.len(), self.accepted.len());
        let mut imported = 0;
        let mut rejected = self.rejected;
        for (a, new) in self.accepted.into_iter().zip(is_new) {
            if *new {
                imported += 1;
            } else {
                rejected.push(Rejected {
                    row: a.row,
                    draft: a.draft,
                    reason: Reason::Invalid(RowError::Duplicate),
                });
            }
        }
        rejected.sort_by_key(|r| r.row);
        ImportReport {
            dry_run,
            imported,
            rejected,
        }
    }
}

/// What an import did, or in a dry run would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Nothing was stored.
    pub dry_run: bool,
    /// Members added (or that would be).
    pub imported: usize,
    /// Refused rows by row number.
    pub rejected: Vec<Rejected>,
}

impl ImportReport {
    /// The refused rows as a file to fix and import again: the registry's columns, then
    /// 原因 (the reason) and 原行号 (the row in the file imported); both are ignored when
    /// the file is imported.
    pub fn rejected_table(&self) -> Table {
        let mut header: Vec<String> = Field::ALL.iter().map(|f| f.header().into()).collect();
        header.push("原因".into());
        header.push("原行号".into());
        let rows = self
            .rejected
            .iter()
            .map(|r| {
                let mut cells: Vec<String> = Field::ALL
                    .iter()
                    .map(|f| f.get(&r.draft).to_string())
                    .collect();
                cells.push(r.reason.to_string());
                cells.push(r.row.to_string());
                cells
            })
            .collect();
        Table { header, rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(s: &str) -> Option<String> {
        crate::settings::PanelSettings::default().group_code(s)
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    const HEADER: &str = "姓名,类别,地址,邮编,电话,办理过业务的科室,来源";
    const GOOD: &str = "李明,企业和市场主体,重庆市南川区东城街道金佛大道1号,408400,138 0838 0001,不动产登记中心、企业注册科,政务服务大厅";

    fn csv(lines: &[&str]) -> Vec<u8> {
        lines.join("\r\n").into_bytes()
    }

    fn import(bytes: &[u8]) -> ImportReport {
        let checked = check(read_sheet(bytes).unwrap(), day(), groups);
        let all_new = vec![true; checked.accepted.len()];
        checked.settle(&all_new, false)
    }

    #[test]
    fn a_utf8_csv_reads_with_or_without_bom() {
        let plain = csv(&[HEADER, GOOD]);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(&plain);
        for bytes in [plain, bom] {
            let rows = read_sheet(&bytes).unwrap();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].row, 2);
            assert_eq!(rows[0].draft.name, "李明");
            assert_eq!(rows[0].draft.units, "不动产登记中心、企业注册科");
        }
    }

    #[test]
    fn a_gbk_csv_as_chinese_excel_saves_it_reads_the_same() {
        let text = [HEADER, GOOD].join("\r\n");
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
        let rows = read_sheet(&gbk).unwrap();
        assert_eq!(rows[0].draft.name, "李明");
        assert_eq!(rows[0].draft.address, "重庆市南川区东城街道金佛大道1号");
        assert_eq!(import(&gbk).imported, 1);
    }

    #[test]
    fn english_headers_in_any_order_with_extra_columns_are_understood() {
        let bytes = csv(&[
            "Phone,Remark,name,Group,Postcode,Address",
            "13808380001,call mornings,Li Ming,enterprise,408400,1 Jinfo Avenue",
        ]);
        let rows = read_sheet(&bytes).unwrap();
        let d = &rows[0].draft;
        assert_eq!(
            (d.name.as_str(), d.phone.as_str(), d.group.as_str()),
            ("Li Ming", "13808380001", "enterprise")
        );
        assert_eq!(d.source, "");
        assert_eq!(import(&bytes).imported, 1);
    }

    #[test]
    fn a_missing_required_column_refuses_the_file_and_names_it() {
        let bytes = csv(&["姓名,类别,地址,办理过业务的科室", "李明,企业,某地,科"]);
        let err = read_sheet(&bytes).unwrap_err();
        assert_eq!(
            err,
            FileError::MissingColumns(vec![Field::Postcode, Field::Phone])
        );
        let text = err.to_string();
        assert!(
            text.contains("邮编、电话") && text.contains("postcode, phone"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_or_unreadable_file_is_a_clear_error() {
        assert_eq!(read_sheet(b""), Err(FileError::Empty));
        assert_eq!(read_sheet(b" \r\n"), Err(FileError::Empty));
        assert_eq!(read_sheet(HEADER.as_bytes()), Err(FileError::NoRows));
        assert!(matches!(
            read_sheet(b"PK\x03\x04 not really a zip"),
            Err(FileError::Unreadable(_))
        ));
        assert_eq!(
            read_sheet(&[0x81, 0x20, 0xFF, 0xFE, 0x80]),
            Err(FileError::Encoding)
        );
        assert!(matches!(
            read_sheet("just, some, words\nand more".as_bytes()),
            Err(FileError::MissingColumns(_))
        ));
    }

    /// A workbook of the header and one member, plus `extra` cells far away.
    fn workbook(extra: &[(u32, u16)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, line) in [HEADER, GOOD].iter().enumerate() {
            for (c, cell) in line.split(',').enumerate() {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
        for &(r, c) in extra {
            sheet.write_string(r, c, "x").unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn a_workbook_of_two_far_apart_cells_is_read_without_filling_the_space_between() {
        // Dense reading would ask for 1,048,576 × 16,384 cells.
        let bytes = workbook(&[(1_048_575, 16_383), (1_048_575, 3)]);
        let rows = read_sheet(&bytes).unwrap();
        assert_eq!(rows[0].row, 2, "{rows:?}");
        assert_eq!(rows[0].draft.name, "李明");
        assert_eq!(
            rows.len(),
            2,
            "the far row is read (and refused by the checks), no more"
        );
    }

    #[test]
    fn a_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_unpacked() {
        use std::io::Write;
        // The workbook's parts, and one of zeros that compresses to almost nothing.
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut source = zip::ZipArchive::new(std::io::Cursor::new(workbook(&[]))).unwrap();
        for i in 0..source.len() {
            let part = source.by_index_raw(i).unwrap();
            out.raw_copy_file(part).unwrap();
        }
        out.start_file("xl/media/zeros.bin", options).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            out.write_all(&zeros).unwrap();
        }
        let bomb = out.finish().unwrap().into_inner();
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        assert!(matches!(read_sheet(&bomb), Err(FileError::TooLarge { .. })));
    }

    #[test]
    fn each_bad_row_is_reported_with_its_spreadsheet_row_and_reason() {
        let bytes = csv(&[
            "南川区定向评议名单（2026年）",
            HEADER,
            GOOD,
            "",
            "王芳,办事群众,南川区西城街道,408400,12345,,",
            "张伟,外星人,南川区,408400,13900000002,,",
            ",办事群众,南川区,408400,13900000003,,",
            "赵敏,individual,南川区,4084,13900000004,,",
            "\"钱\n多多\",individual,\"南川区\n北固镇\",408400,13900000005,,",
            "孙丽,individual,南川区,408400,023-71412345,,",
        ]);
        let report = import(&bytes);
        assert_eq!(report.imported, 3);
        let got: Vec<(usize, String)> = report
            .rejected
            .iter()
            .map(|r| (r.row, r.reason.to_string()))
            .collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].0, 5);
        assert!(got[0].1.contains("电话“12345”格式不正确"), "{got:?}");
        assert_eq!(got[1].0, 6);
        assert!(got[1].1.contains("外星人"));
        assert_eq!(got[2].0, 7);
        assert!(got[2].1.contains("姓名"));
        assert_eq!(got[3].0, 8);
        assert!(got[3].1.contains("邮编"));
        // A cell with a line break is still one spreadsheet row.
        let rows = read_sheet(&bytes).unwrap();
        assert_eq!(rows.last().unwrap().row, 10);
    }

    #[test]
    fn the_same_person_twice_in_a_file_is_refused_the_second_time() {
        let bytes = csv(&[
            HEADER,
            GOOD,
            "李明,individual,另一个地址,408400,13808380001,,",
            "李明,individual,另一个人,408400,13808380002,,",
        ]);
        let checked = check(read_sheet(&bytes).unwrap(), day(), groups);
        assert_eq!(checked.accepted.len(), 2);
        assert_eq!(checked.rejected.len(), 1);
        assert_eq!(checked.rejected[0].row, 3);
        assert_eq!(checked.rejected[0].reason, Reason::SameAsRow(2));
        assert!(checked.rejected[0].reason.to_string().contains("第2行"));
    }

    #[test]
    fn members_already_registered_are_refused_as_duplicates() {
        let bytes = csv(&[HEADER, GOOD, "王芳,individual,南川区,408400,13900000001,,"]);
        let checked = check(read_sheet(&bytes).unwrap(), day(), groups);
        let report = checked.settle(&[false, true], true);
        assert!(report.dry_run);
        assert_eq!(report.imported, 1);
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].row, 2);
        assert_eq!(
            report.rejected[0].reason,
            Reason::Invalid(RowError::Duplicate)
        );
    }

    #[test]
    fn an_xlsx_with_number_cells_and_a_title_row_reads_like_the_csv() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "定向评议名单").unwrap();
        for (c, h) in ["序号", "电话", "姓名", "类别", "地址", "邮编"]
            .iter()
            .enumerate()
        {
            sheet.write_string(2, c as u16, *h).unwrap();
        }
        sheet.write_number(3, 0, 1).unwrap();
        sheet.write_number(3, 1, 13808380001.0).unwrap();
        sheet.write_string(3, 2, "李明").unwrap();
        sheet.write_string(3, 3, "企业和市场主体").unwrap();
        sheet.write_string(3, 4, "南川区金佛大道1号").unwrap();
        sheet.write_number(3, 5, 408400).unwrap();
        sheet.write_number(4, 0, 2).unwrap();
        sheet.write_string(4, 1, "不知道").unwrap();
        sheet.write_string(4, 2, "王芳").unwrap();
        sheet.write_string(4, 3, "individual").unwrap();
        sheet.write_string(4, 4, "南川区").unwrap();
        sheet.write_string(4, 5, "408400").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let rows = read_sheet(&bytes).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 4, "the header is on row 3");
        assert_eq!(rows[0].draft.phone, "13808380001");
        assert_eq!(rows[0].draft.postcode, "408400");
        let report = import(&bytes);
        assert_eq!(report.imported, 1);
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].row, 5);
    }

    #[test]
    fn rejected_rows_come_back_as_a_file_that_imports_again() {
        let bytes = csv(&[HEADER, "王芳,办事群众,南川区,408400,+86 12345,,大厅"]);
        let report = import(&bytes);
        let table = report.rejected_table();
        assert_eq!(table.header.last().unwrap(), "原行号");
        assert_eq!(table.rows[0][4], "+86 12345");
        let file = table.to_csv();
        assert!(file.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(
            text.contains("'+86 12345"),
            "a formula-like cell is neutralised"
        );
        let again = read_sheet(&file).unwrap();
        assert_eq!(again[0].draft.phone, "+86 12345");
        assert_eq!(again[0].draft.source, "大厅");
        let xlsx = table.to_xlsx("rejected").unwrap();
        assert_eq!(read_sheet(&xlsx).unwrap()[0].draft, again[0].draft);
    }

    #[test]
    fn a_tab_separated_utf16_file_reads() {
        let text = format!(
            "\u{feff}{}\r\n{}",
            HEADER.replace(',', "\t"),
            GOOD.replace(',', "\t")
        );
        let mut bytes = Vec::new();
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let rows = read_sheet(&bytes).unwrap();
        assert_eq!(rows[0].draft.name, "李明");
    }

    #[test]
    fn headers_with_marks_and_notes_are_recognised() {
        let bytes = csv(&[
            "*姓名,类别（必填）,Postal Code,地址,手机号码",
            "李明,enterprise,408400,南川区,13808380001",
        ]);
        assert_eq!(import(&bytes).imported, 1);
    }

    #[test]
    fn a_column_named_twice_is_refused() {
        let bytes = csv(&["姓名,类别,地址,邮编,电话,手机", "a,b,c,d,e,f"]);
        assert!(matches!(
            read_sheet(&bytes),
            Err(FileError::DuplicateColumn(c)) if c == "手机"
        ));
    }
}

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

use super::{MemberDraft, NewMember, RowError};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::fmt;

/// A column of the registry file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// 姓名.
    Name,
    /// 类别.
    Group,
    /// 地址.
    Address,
    /// 邮编.
    Postcode,
    /// 电话.
    Phone,
    /// 办理过业务的科室.
    Units,
    /// 来源.
    Source,
}

impl Field {
    /// Every column, in the order files are written.
    pub const ALL: [Field; 7] = [
        Field::Name,
        Field::Group,
        Field::Address,
        Field::Postcode,
        Field::Phone,
        Field::Units,
        Field::Source,
    ];

    /// The header written to files (Chinese, as the clerks' spreadsheets have it).
    pub fn header(self) -> &'static str {
        self.aliases()[0]
    }

    /// The column in both languages, for messages.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "姓名 name",
            Field::Group => "类别 group",
            Field::Address => "地址 address",
            Field::Postcode => "邮编 postcode",
            Field::Phone => "电话 phone",
            Field::Units => "办理过业务的科室 units",
            Field::Source => "来源 source",
        }
    }

    /// Whether a file without this column is refused.
    pub fn required(self) -> bool {
        !matches!(self, Field::Units | Field::Source)
    }

    /// Header texts that name this column, compared after [`normalize_header`].
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Name => &["姓名", "名字", "name"],
            Field::Group => &["类别", "类型", "分组", "群体", "group", "category"],
            Field::Address => &["地址", "通讯地址", "邮寄地址", "联系地址", "address"],
            Field::Postcode => &["邮编", "邮政编码", "postcode", "postalcode", "zip"],
            Field::Phone => &[
                "电话",
                "联系电话",
                "电话号码",
                "手机",
                "手机号",
                "手机号码",
                "phone",
                "mobile",
                "tel",
                "telephone",
            ],
            Field::Units => &[
                "办理过业务的科室",
                "办理业务的科室",
                "办理科室",
                "科室",
                "units",
                "unit",
            ],
            Field::Source => &["来源", "source"],
        }
    }

    fn of_header(text: &str) -> Option<Field> {
        let h = normalize_header(text);
        Field::ALL
            .into_iter()
            .find(|f| f.aliases().iter().any(|a| *a == h))
    }

    fn set(self, draft: &mut MemberDraft, value: String) {
        let slot = match self {
            Field::Name => &mut draft.name,
            Field::Group => &mut draft.group,
            Field::Address => &mut draft.address,
            Field::Postcode => &mut draft.postcode,
            Field::Phone => &mut draft.phone,
            Field::Units => &mut draft.units,
            Field::Source => &mut draft.source,
        };
        *slot = value;
    }

    fn get(self, draft: &MemberDraft) -> &str {
        match self {
            Field::Name => &draft.name,
            Field::Group => &draft.group,
            Field::Address => &draft.address,
            Field::Postcode => &draft.postcode,
            Field::Phone => &draft.phone,
            Field::Units => &draft.units,
            Field::Source => &draft.source,
        }
    }
}

/// A header cell as compared: no spaces, no required-marks (`*`), no note in brackets
/// (`电话（必填）`), lower case.
fn normalize_header(text: &str) -> String {
    let cut = text.find(['(', '（', '[']).map_or(text, |at| &text[..at]);
    cut.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | '\u{feff}' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// One member row read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// The row number as the spreadsheet shows it (the header is usually row 1).
    pub row: usize,
    /// The row's cells by column.
    pub draft: MemberDraft,
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Nothing in it.
    #[error("文件为空 · the file is empty")]
    Empty,
    /// A header but no member rows.
    #[error("表头之后没有成员行 · the file has no member rows after its header")]
    NoRows,
    /// Not a workbook, or a damaged one.
    #[error(
        "无法读取文件（应为 CSV 或 XLSX）：{0} · cannot read the file (expected CSV or XLSX): {0}"
    )]
    Unreadable(String),
    /// Text in neither UTF-8 nor GB18030.
    #[error(
        "文件编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV · unknown text encoding; save the file as CSV in UTF-8 or GBK"
    )]
    Encoding,
    /// Required columns are not in the header.
    #[error("缺少必需的列：{} · missing required columns: {}", zh(.0), en(.0))]
    MissingColumns(Vec<Field>),
    /// Two header cells name the same column.
    #[error("“{0}”列出现了两次 · column `{0}` appears twice")]
    DuplicateColumn(String),
}

fn zh(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.header())
        .collect::<Vec<_>>()
        .join("、")
}

fn en(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.label().split(' ').nth(1).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a registry file, CSV or workbook (told apart by content, not by name).
pub fn read_sheet(bytes: &[u8]) -> Result<Vec<SheetRow>, FileError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // A workbook's cells are text as typed: nothing to undo.
        rows_from_grid(workbook_grid(bytes)?, |cell| cell.trim().to_string())
    } else {
        rows_from_grid(csv_grid(bytes)?, unescape)
    }
}

/// Numbered rows of text cells.
type Grid = Vec<(usize, Vec<String>)>;

fn workbook_grid(bytes: &[u8]) -> Result<Grid, FileError> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| FileError::Unreadable(e.to_string()))?;
    let mut first: Option<Grid> = None;
    for n in 0..book.sheet_names().len() {
        let Some(range) = book.worksheet_range_at(n) else {
            continue;
        };
        let range = range.map_err(|e| FileError::Unreadable(e.to_string()))?;
        let (top, _) = range.start().unwrap_or((0, 0));
        let grid: Grid = range
            .rows()
            .enumerate()
            .map(|(i, cells)| (top as usize + i + 1, cells.iter().map(cell_text).collect()))
            .collect();
        if header_at(&grid).is_some() {
            return Ok(grid);
        }
        if first.is_none() && grid.iter().any(|(_, cells)| !blank(cells)) {
            first = Some(grid);
        }
    }
    first.ok_or(FileError::Empty)
}

/// A cell as text; whole numbers without a decimal point, so that a phone number or a
/// postcode typed into a number cell reads as its digits.
fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        calamine::Data::Empty | calamine::Data::Error(_) => String::new(),
        other => other.to_string(),
    }
}

fn csv_grid(bytes: &[u8]) -> Result<Grid, FileError> {
    let text = decode(bytes)?;
    if text.contains('\0') {
        return Err(FileError::Unreadable("binary content".into()));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(&text))
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    // A spreadsheet shows each record as one row, a blank line as an empty row, and a
    // quoted cell with line breaks as one row: count the lines before the record, less the
    // breaks inside earlier cells.
    let mut breaks_in_cells = 0;
    for record in reader.records() {
        let record = record.map_err(|e| FileError::Unreadable(e.to_string()))?;
        let from = record.position().map_or(0, |p| p.byte() as usize);
        let start = from
            + text.as_bytes()[from.min(text.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let row = (1 + line_breaks(&text[..start.min(text.len())])).saturating_sub(breaks_in_cells);
        breaks_in_cells += record.iter().map(line_breaks).sum::<usize>();
        grid.push((row, record.iter().map(String::from).collect()));
    }
    Ok(grid)
}

/// Line breaks in a text: `\r\n`, `\n` or a lone `\r` each count once.
fn line_breaks(text: &str) -> usize {
    let b = text.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count()
}

/// UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (a superset of GBK and GB2312).
fn decode(bytes: &[u8]) -> Result<String, FileError> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return if malformed {
            Err(FileError::Encoding)
        } else {
            Ok(text.into_owned())
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if malformed {
        Err(FileError::Encoding)
    } else {
        Ok(text.into_owned())
    }
}

/// The separator the first line uses most: comma, semicolon or tab.
fn delimiter(text: &str) -> u8 {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (line.bytes().filter(|b| b == d).count(), *d == b','))
        .unwrap_or(b',')
}

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// The header: the first of the first ten non-blank rows that names two known columns.
fn header_at(grid: &Grid) -> Option<usize> {
    grid.iter()
        .enumerate()
        .filter(|(_, (_, cells))| !blank(cells))
        .take(10)
        .find(|(_, (_, cells))| {
            cells
                .iter()
                .filter_map(|c| Field::of_header(c))
                .collect::<std::collections::HashSet<_>>()
                .len()
                >= 2
        })
        .map(|(i, _)| i)
}

fn rows_from_grid(grid: Grid, cell_text: fn(&str) -> String) -> Result<Vec<SheetRow>, FileError> {
    if grid.iter().all(|(_, cells)| blank(cells)) {
        return Err(FileError::Empty);
    }
    let Some(at) = header_at(&grid) else {
        return Err(FileError::MissingColumns(
            Field::ALL.into_iter().filter(|f| f.required()).collect(),
        ));
    };
    let mut columns: Vec<(usize, Field)> = Vec::new();
    for (i, cell) in grid[at].1.iter().enumerate() {
        if let Some(field) = Field::of_header(cell) {
            if columns.iter().any(|(_, f)| *f == field) {
                return Err(FileError::DuplicateColumn(cell.trim().to_string()));
            }
            columns.push((i, field));
        }
    }
    let missing: Vec<Field> = Field::ALL
        .into_iter()
        .filter(|f| f.required() && columns.iter().all(|(_, c)| c != f))
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns(missing));
    }
    let rows: Vec<SheetRow> = grid
        .into_iter()
        .skip(at + 1)
        .filter(|(_, cells)| !blank(cells))
        .map(|(row, cells)| {
            let mut draft = MemberDraft::default();
            for (i, field) in &columns {
                if let Some(cell) = cells.get(*i) {
                    field.set(&mut draft, cell_text(cell));
                }
            }
            SheetRow { row, draft }
        })
        .collect();
    if rows.is_empty() {
        return Err(FileError::NoRows);
    }
    Ok(rows)
}

/// Undoes what spreadsheets and our own CSV writer put around a CSV value: `="0234…"` (the
/// trick that keeps leading zeros) and the `'` that stops a formula.
fn unescape(cell: &str) -> String {
    let t = cell.trim();
    if let Some(inner) = t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        return inner.trim().to_string();
    }
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\'']) => rest.to_string(),
        _ => t.to_string(),
    }
}

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

/// The registry's columns for a stored member, as an export writes them: the group by its
/// Chinese name, the units joined with 、.
pub fn member_cells(member: &NewMember, group_name: &str) -> Vec<String> {
    vec![
        member.name.clone(),
        group_name.to_string(),
        member.address.clone(),
        member.postcode.clone(),
        member.phone.clone(),
        member.units.join("、"),
        member.source.clone(),
    ]
}

/// The header of [`member_cells`].
pub fn member_header() -> Vec<String> {
    Field::ALL.iter().map(|f| f.header().into()).collect()
}

/// A sheet to write: a header row and rows of text cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法生成 XLSX 文件 · cannot write the XLSX file: {0}")]
pub struct WriteError(String);

impl Table {
    /// CSV in UTF-8 with a BOM (so that Excel shows the Chinese), a cell that would start a
    /// formula prefixed with `'` (so that opening the file runs nothing; an import strips
    /// the `'` again), and so is a cell that starts with `'` itself, so it comes back whole.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut out);
            for row in std::iter::once(&self.header).chain(&self.rows) {
                let cells = row.iter().map(|c| {
                    if c.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) {
                        format!("'{c}")
                    } else {
                        c.clone()
                    }
                });
                // Writing to a Vec cannot fail.
                let _ = writer.write_record(cells);
            }
            let _ = writer.flush();
        }
        out
    }

    /// An XLSX workbook of one sheet, every cell text (a phone number stays digits, never a
    /// number in scientific notation), the header bold and frozen.
    pub fn to_xlsx(&self, sheet_name: &str) -> Result<Vec<u8>, WriteError> {
        let e = |e: rust_xlsxwriter::XlsxError| WriteError(e.to_string());
        let mut book = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name).map_err(e)?;
        for (c, h) in self.header.iter().enumerate() {
            let col = c as u16;
            sheet
                .write_string_with_format(0, col, h, &bold)
                .map_err(e)?;
            let widest = self
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .chain(std::iter::once(h))
                .map(|s| {
                    s.chars()
                        .map(|ch| if ch.is_ascii() { 1 } else { 2 })
                        .sum::<usize>()
                })
                .max()
                .unwrap_or(8);
            sheet
                .set_column_width(col, (widest.clamp(6, 60) + 2) as f64)
                .map_err(e)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet
                    .write_string(r as u32 + 1, c as u16, cell)
                    .map_err(e)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(e)?;
        book.save_to_buffer().map_err(e)
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

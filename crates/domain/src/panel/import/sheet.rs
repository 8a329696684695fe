//! Reading a registry file (CSV in any of its encodings, or a workbook) into rows, by its
//! header.

use crate::panel::MemberDraft;

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

    pub(super) fn get(self, draft: &MemberDraft) -> &str {
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
    /// A workbook larger once unpacked, or with more cells, than a registry can be.
    #[error(
        "工作簿过大（解压后超过{max_mib}MB或超过{max_cells}个单元格），请分批导入 · the workbook is too large (over {max_mib} MB unpacked or {max_cells} cells); import it in parts"
    )]
    TooLarge {
        /// The most it may unpack to, in MiB.
        max_mib: u64,
        /// The most cells it may hold.
        max_cells: usize,
    },
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

/// The most an XLSX workbook may unpack to: a registry of a few hundred thousand members
/// is a few tens of MiB of XML; a small file that unpacks to gigabytes is an attack.
const MAX_UNPACKED: u64 = 256 * 1024 * 1024;

/// The most cells a sheet may hold (a few hundred thousand members × seven columns).
const MAX_CELLS: usize = 5_000_000;

/// Columns read from a sheet: the registry has seven; anything far to the right is not part
/// of it.
const MAX_COLUMNS: u32 = 64;

fn too_large() -> FileError {
    FileError::TooLarge {
        max_mib: MAX_UNPACKED / (1024 * 1024),
        max_cells: MAX_CELLS,
    }
}

fn workbook_grid(bytes: &[u8]) -> Result<Grid, FileError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx_grid(bytes);
    }
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

/// An XLSX workbook's first sheet with a header (else its first sheet with anything), read
/// cell by cell: calamine's `Range` is dense, so two cells at A1 and XFD1048576 would ask
/// for seventeen billion; here only the cells present are kept, within limits checked
/// before anything is unpacked.
fn xlsx_grid(bytes: &[u8]) -> Result<Grid, FileError> {
    let unreadable = |e: &dyn std::fmt::Display| FileError::Unreadable(e.to_string());
    // What the archive says its parts unpack to (the reader stops at the declared size).
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(|e| unreadable(&e))?;
        unpacked = unpacked.saturating_add(part.size());
        if unpacked > MAX_UNPACKED {
            return Err(too_large());
        }
    }
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut first: Option<Grid> = None;
    for name in book.sheet_names() {
        let mut cells = book
            .worksheet_cells_reader(&name)
            .map_err(|e| unreadable(&e))?;
        let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
        let mut count = 0usize;
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (row, col) = cell.get_position();
            if col >= MAX_COLUMNS {
                continue;
            }
            count += 1;
            if count > MAX_CELLS {
                return Err(too_large());
            }
            let text = cell_text(&calamine::Data::from(cell.get_value().clone()));
            let line = rows.entry(row).or_default();
            if line.len() <= col as usize {
                line.resize(col as usize + 1, String::new());
            }
            line[col as usize] = text;
        }
        let grid: Grid = rows
            .into_iter()
            .map(|(row, cells)| (row as usize + 1, cells))
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

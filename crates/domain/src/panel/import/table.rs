//! Writing the registry and the refused rows back out, as CSV or XLSX.

use super::Field;
use crate::panel::NewMember;

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

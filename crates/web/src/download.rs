//! Files sent for download — PDFs, spreadsheets, mailing lists, evidence — by the console and
//! the API alike: always an attachment of a type the server chose, never rendered in the
//! site's origin, never kept in a cache (several hold personal data).

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use minping_domain::report::EvidenceKind;
use minping_storage::EvidenceMeta;
use std::fmt::Write;

/// A PDF.
pub const PDF: &str = "application/pdf";
/// CSV in UTF-8.
pub const CSV: &str = "text/csv; charset=utf-8";
/// An XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `bytes` as a download named `file_name`.
pub fn attachment(content_type: &'static str, file_name: &str, bytes: Vec<u8>) -> Response {
    let disposition = HeaderValue::from_str(&content_disposition(file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// `attachment` with the name twice: in plain ASCII for old clients (anything else as `_`),
/// and exactly, as UTF-8 percent-encoded in the RFC 5987 `filename*` that browsers prefer.
pub fn content_disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' ' => ' ',
            '"' | '\\' | '%' => '_',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    let mut exact = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            exact.push(char::from(b));
        } else {
            let _ = write!(exact, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}")
}

/// A round's circulation notice (通报) as a PDF download.
pub fn notice(round: i64, pdf: Vec<u8>) -> Response {
    attachment(PDF, &format!("round-{round}-notice.pdf"), pdf)
}

/// An evidence file as a download: only a type the upload check gives is sent as such.
pub fn evidence(meta: &EvidenceMeta, content: Vec<u8>) -> Response {
    let content_type = EvidenceKind::from_content_type(&meta.content_type)
        .map_or("application/octet-stream", EvidenceKind::content_type);
    attachment(content_type, &meta.file_name, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_keeps_its_exact_name_and_an_ascii_one_that_cannot_break_the_header() {
        assert_eq!(
            content_disposition("现场 照片\"%.png"),
            "attachment; filename=\"__ ____.png\"; \
             filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87%22%25.png"
        );
        assert_eq!(
            content_disposition("round-3-forms.pdf"),
            "attachment; filename=\"round-3-forms.pdf\"; filename*=UTF-8''round-3-forms.pdf"
        );
    }
}

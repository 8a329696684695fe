//! The poppler-utils tools (`pdftotext`, `pdfinfo`) the tests read the PDFs back with.
#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs a poppler tool on `pdf` (`tool OPTIONS FILE [-]`) and returns its standard output.
pub fn poppler(tool: &str, pdf: &[u8], options: &[&str]) -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "form-{}-{}.pdf",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, pdf).unwrap();
    let mut command = Command::new(tool);
    command.args(options).arg(&path);
    if tool == "pdftotext" {
        command.arg("-"); // to standard output
    }
    let out = command.output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{tool}` is missing: install poppler-utils (apt-get install poppler-utils)")
        }
        Err(e) => panic!("running {tool}: {e}"),
    };
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `pdftotext` as a person runs it (reading order).
pub fn pdftotext(pdf: &[u8]) -> String {
    poppler("pdftotext", pdf, &["-enc", "UTF-8"])
}

/// `pdftotext -raw` (content order) with all whitespace removed: for text that wraps over
/// lines in a narrow column, which reading order may interleave with the column beside it.
pub fn raw_squeezed(pdf: &[u8]) -> String {
    let text = poppler("pdftotext", pdf, &["-raw", "-enc", "UTF-8"]);
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `pdfinfo` page count and the size of page 1 in millimetres.
pub fn pages_and_size(pdf: &[u8]) -> (usize, f64, f64) {
    let info = poppler("pdfinfo", pdf, &[]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
            .trim()
            .to_owned()
    };
    let pages = field("Pages:").parse().unwrap();
    let size = field("Page size:");
    let mut dims = size
        .split_whitespace()
        .filter_map(|w| w.parse::<f64>().ok());
    let pt_to_mm = 25.4 / 72.0;
    let (w, h) = (
        dims.next().unwrap() * pt_to_mm,
        dims.next().unwrap() * pt_to_mm,
    );
    (pages, w, h)
}

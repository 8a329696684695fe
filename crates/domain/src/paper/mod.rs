//! Returned paper forms (录入): what a clerk keys from a form, in a canonical shape two
//! entries can be compared in, and the one-line-per-unit syntax clerks type it in.
//!
//! - [`content`]: [`Content`], an entry's named units, indicators, comments and exposure,
//!   in canonical order, so two entries are equal exactly when they say the same.
//! - [`lines`]: the keying syntax, `12 冷贪 要求请吃饭` per named unit and
//!   `办过事: 12 37 40` for the units dealt with, read into a ballot draft and written back.

pub mod content;
pub mod lines;

pub use content::{Content, KeyedNomination};
pub use lines::{Keyed, LineError, indicator_for, lines_of, read_lines, symbol};

/// A full-width ASCII character (as a Chinese input method types it) as plain ASCII.
pub fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

/// Full-width ASCII as plain ASCII.
pub fn half_width(s: &str) -> String {
    s.chars().map(half_width_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_ascii_reads_as_plain_ascii() {
        assert_eq!(half_width("Ｎ－０００１　ａ"), "N-0001 a");
        assert_eq!(half_width("冷贪"), "冷贪");
    }
}

//! Turns the plain-data inputs into typst source: a prelude of typst literals (`#let data =
//! (..)`, `#let notice = (..)`) followed by the template of the form or the notice. Data never
//! becomes markup, so a unit called `*科*` or a name with `#` prints as written.

use std::fmt::Write;

use qrcode::{Color, EcLevel, QrCode};

use crate::{FormContent, Notice, PdfError, Recipient};

/// The layout of both forms; it reads the bindings written by [`main_source`].
const TEMPLATE: &str = include_str!("form.typ");

/// The layout of the circulation notice; it reads the binding written by [`notice_source`].
pub(crate) const NOTICE_TEMPLATE: &str = include_str!("notice.typ");

/// What the source typesets.
pub(crate) enum Kind<'a> {
    /// The layer of the personalised A4 form that is the same for everyone.
    Base,
    /// The personal layer (address, code, footers) of each recipient's form, in order, for
    /// a base of `pages` pages.
    Overlay { who: &'a [Recipient], pages: usize },
    /// The newspaper form without personal data.
    OpenChannel,
}

/// The complete main source for `content` and `kind`.
pub(crate) fn main_source(content: &FormContent, kind: Kind<'_>) -> Result<String, PdfError> {
    let mut s = String::with_capacity(TEMPLATE.len() + 16 * 1024);
    s.push_str("#let data = ");
    content_literal(&mut s, content, matches!(kind, Kind::OpenChannel));
    s.push('\n');
    match kind {
        Kind::Base => {
            s.push_str("#let mode = \"base\"\n#let recipients = ()\n#let base-pages = 0\n")
        }
        Kind::Overlay { who, pages } => {
            let _ = write!(
                s,
                "#let mode = \"overlay\"\n#let base-pages = {pages}\n#let recipients = ("
            );
            for r in who {
                recipient_literal(&mut s, r)?;
                s.push_str(",\n");
            }
            s.push_str(")\n");
        }
        Kind::OpenChannel => {
            s.push_str("#let mode = \"open\"\n#let recipients = ()\n#let base-pages = 0\n")
        }
    }
    s.push_str(TEMPLATE);
    Ok(s)
}

/// The complete main source of the circulation notice `n`.
pub(crate) fn notice_source(n: &Notice) -> String {
    let mut s = String::with_capacity(NOTICE_TEMPLATE.len() + 4 * 1024);
    s.push_str("#let notice = (issuer: ");
    str_lit(&mut s, &n.issuer);
    s.push_str(", number: ");
    str_lit(&mut s, &n.number);
    s.push_str(", title: ");
    str_lit(&mut s, &n.title);
    s.push_str(", addressee: ");
    str_lit(&mut s, &n.addressee);
    s.push_str(", opening: ");
    str_array(&mut s, &n.opening);
    s.push_str(", entries: (");
    for e in &n.entries {
        let _ = write!(s, "(rank: {}, agency: ", e.rank);
        str_lit(&mut s, &e.agency);
        s.push_str(", unit: ");
        str_lit(&mut s, &e.unit);
        s.push_str(", problems: ");
        str_lit(&mut s, &e.main_problems);
        s.push_str(", note: ");
        match &e.override_note {
            Some(note) => str_lit(&mut s, note),
            None => s.push_str("none"),
        }
        s.push_str("),");
    }
    s.push_str("), closing: ");
    str_array(&mut s, &n.closing);
    s.push_str(", signature: ");
    str_lit(&mut s, &n.signature);
    s.push_str(", date: ");
    str_lit(&mut s, &n.date);
    s.push_str(")\n");
    s.push_str(NOTICE_TEMPLATE);
    s
}

/// Appends `items` as a typst array of strings (trailing comma, so one item stays an array).
fn str_array(s: &mut String, items: &[String]) {
    s.push('(');
    for item in items {
        str_lit(s, item);
        s.push(',');
    }
    s.push(')');
}

fn content_literal(s: &mut String, c: &FormContent, open: bool) {
    s.push_str("(district: ");
    str_lit(s, &c.district);
    s.push_str(", round: ");
    str_lit(s, &c.round_label);
    s.push_str(", layout-id: ");
    str_lit(s, &c.layout_id);
    let _ = write!(s, ", max-nominations: {}", c.max_nominations);
    s.push_str(", indicators: (");
    for i in &c.indicators {
        s.push_str("(name: ");
        str_lit(s, &i.name);
        s.push_str(", description: ");
        str_lit(s, &i.description);
        s.push_str("),");
    }
    s.push_str("), agencies: (");
    for a in &c.agencies {
        s.push_str("(name: ");
        str_lit(s, &a.agency);
        s.push_str(", units: (");
        for (number, name) in &a.units {
            let _ = write!(s, "(number: {number}, name: ");
            str_lit(s, name);
            s.push_str("),");
        }
        s.push_str(")),");
    }
    s.push_str("), instructions: (");
    let defaults;
    let instructions = if c.instructions.is_empty() {
        defaults = if open {
            FormContent::default_open_instructions(c.max_nominations)
        } else {
            FormContent::default_instructions(c.max_nominations)
        };
        &defaults
    } else {
        &c.instructions
    };
    for line in instructions {
        str_lit(s, line);
        s.push(',');
    }
    s.push_str("), return-address: ");
    str_lit(s, &c.return_address);
    s.push(')');
}

fn recipient_literal(s: &mut String, r: &Recipient) -> Result<(), PdfError> {
    s.push_str("(name: ");
    str_lit(s, &r.name);
    s.push_str(", address: ");
    str_lit(s, &r.address);
    s.push_str(", postcode: ");
    str_lit(s, &r.postcode);
    s.push_str(", code: ");
    str_lit(s, &r.code);
    s.push_str(", url: ");
    str_lit(s, &r.url);
    s.push_str(", qr: ");
    str_lit(s, &qr_svg(&r.url, &r.code)?);
    s.push(')');
    Ok(())
}

/// Appends `text` as a typst string literal.
fn str_lit(s: &mut String, text: &str) {
    s.push('"');
    for ch in text.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(s, "\\u{{{:x}}}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

/// The QR code of `url` as a small SVG: one path of horizontal runs (far fewer nodes than one
/// square per module, which keeps 1,000 forms fast) inside the 4-module quiet zone the
/// standard asks for. Level M survives a crease or a pen mark across the code.
pub(crate) fn qr_svg(url: &str, code: &str) -> Result<String, PdfError> {
    let qr = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|e| {
        PdfError::QrCode {
            code: code.to_owned(),
            reason: e.to_string(),
        }
    })?;
    let width = qr.width();
    let colors = qr.to_colors();
    const QUIET: usize = 4;
    let size = width + 2 * QUIET;
    let mut path = String::with_capacity(width * width);
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(path, "M{} {}h{run}v1h-{run}z", start + QUIET, y + QUIET);
            } else {
                x += 1;
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::str_lit;

    #[test]
    fn string_literals_escape_what_typst_would_read() {
        let mut s = String::new();
        str_lit(&mut s, "a\"b\\c\nd#*e\u{7}");
        assert_eq!(s, r#""a\"b\\c\nd#*e\u{7}""#);
    }
}

//! The keying syntax of paper entry. One line per named unit:
//! `<unit id> <indicators> [comment]`, e.g. `12 冷贪 要求请吃饭` or `37 ls`; the indicators
//! as their one-character Chinese names (冷懒推乱贪), the first letters of their codes
//! (`c l s a g`), or the codes themselves separated by commas (`cold,greedy`). One optional
//! line lists the units dealt with: `办过事: 12 37 40` (or `E: 12 37 40`). Full-width digits
//! and letters, as a Chinese input method types them, read as plain ones. Blank lines are
//! skipped.

use super::{Content, half_width, half_width_char};
use crate::{BallotDraft, IndicatorSet, NominationDraft};

/// What a clerk typed, read line by line, with the line each part came from.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Keyed {
    /// The named units, in the order typed.
    pub nominations: Vec<NominationDraft>,
    /// The units dealt with, in the order typed.
    pub exposure: Vec<i64>,
    /// The line (from 1) each nomination was typed on.
    pub nomination_lines: Vec<usize>,
    /// The line (from 1) each exposure unit was typed on.
    pub exposure_lines: Vec<usize>,
}

impl Keyed {
    /// The ballot draft this entry makes (channel and code are the form's, set later).
    pub fn draft(&self) -> BallotDraft {
        BallotDraft {
            nominations: self.nominations.clone(),
            exposure: self.exposure.clone(),
            ..BallotDraft::default()
        }
    }
}

/// A line that is not in the entry syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// A nomination line must start with the unit's id.
    NoUnitId {
        /// The line, from 1.
        line: usize,
    },
    /// Not an indicator (letters or Chinese names).
    BadIndicator {
        /// The line, from 1.
        line: usize,
        /// What was typed in the indicators' place.
        token: String,
    },
    /// Not a unit id in the exposure line.
    BadExposure {
        /// The line, from 1.
        line: usize,
        /// What was typed in a unit id's place.
        token: String,
    },
}

impl LineError {
    /// The line the error is on, from 1.
    pub fn line(&self) -> usize {
        match self {
            LineError::NoUnitId { line }
            | LineError::BadIndicator { line, .. }
            | LineError::BadExposure { line, .. } => *line,
        }
    }
}

/// The indicator a typed symbol stands for: the Chinese name (冷) when it is one character,
/// or the code's first letter (`c`) when no other code starts with it.
pub fn indicator_for(c: char, set: &IndicatorSet) -> Option<&str> {
    let c = half_width_char(c);
    let by_name = set.iter().find(|i| {
        let mut name = i.name_zh.chars();
        name.next() == Some(c) && name.next().is_none()
    });
    let by_letter = || {
        let letter = c.to_ascii_lowercase();
        let mut hits = set
            .iter()
            .filter(|i| c.is_ascii_alphabetic() && i.code.starts_with(letter));
        match (hits.next(), hits.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    };
    by_name.or_else(by_letter).map(|i| i.code.as_str())
}

/// How an indicator is written in an entry line: its one-character name, else its code's
/// first letter if that names it alone, else its code.
pub fn symbol(code: &str, set: &IndicatorSet) -> String {
    let Some(ind) = set.iter().find(|i| i.code == code) else {
        return code.to_string();
    };
    let mut name = ind.name_zh.chars();
    if let (Some(c), None) = (name.next(), name.next()) {
        return c.to_string();
    }
    match ind.code.chars().next() {
        Some(c) if indicator_for(c, set) == Some(code) => c.to_string(),
        _ => ind.code.clone(),
    }
}

/// The codes of an indicator token like `冷贪`, `ls`, `c,g` or `cold,greedy`.
fn indicator_codes(token: &str, set: &IndicatorSet) -> Option<Vec<String>> {
    let mut codes = Vec::new();
    for part in token
        .split([',', '，', '、', '/', '+'])
        .filter(|p| !p.is_empty())
    {
        let lower = half_width(part).to_ascii_lowercase();
        if let Some(i) = set.iter().find(|i| i.code == lower) {
            codes.push(i.code.clone());
            continue;
        }
        for c in part.chars() {
            codes.push(indicator_for(c, set)?.to_string());
        }
    }
    Some(codes)
}

/// The units after `办过事:` or `E:`, if the line is the exposure line.
fn exposure_list(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("办过事") {
        let rest = rest.trim_start();
        return Some(rest.strip_prefix([':', '：']).unwrap_or(rest));
    }
    let rest = line.strip_prefix(['E', 'e', 'Ｅ', 'ｅ'])?.trim_start();
    rest.strip_prefix([':', '：'])
}

/// Reads the entry text: every line a nomination, or the exposure line; blank lines are
/// skipped. Every bad line is reported, not only the first.
pub fn read_lines(text: &str, set: &IndicatorSet) -> Result<Keyed, Vec<LineError>> {
    let mut keyed = Keyed::default();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(units) = exposure_list(trimmed) {
            for token in units
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
                .filter(|t| !t.is_empty())
            {
                match half_width(token).parse::<i64>() {
                    Ok(id) => {
                        keyed.exposure.push(id);
                        keyed.exposure_lines.push(line);
                    }
                    Err(_) => errors.push(LineError::BadExposure {
                        line,
                        token: token.to_string(),
                    }),
                }
            }
            continue;
        }
        let digits = trimmed
            .char_indices()
            .find(|(_, c)| !half_width_char(*c).is_ascii_digit())
            .map_or(trimmed.len(), |(at, _)| at);
        let Ok(unit_id) = half_width(&trimmed[..digits]).parse::<i64>() else {
            errors.push(LineError::NoUnitId { line });
            continue;
        };
        let rest = trimmed[digits..].trim_start();
        let (token, comment) = match rest.find(char::is_whitespace) {
            Some(at) => (&rest[..at], rest[at..].trim()),
            None => (rest, ""),
        };
        let Some(indicators) = indicator_codes(token, set) else {
            errors.push(LineError::BadIndicator {
                line,
                token: token.to_string(),
            });
            continue;
        };
        keyed.nominations.push(NominationDraft {
            unit_id,
            indicators,
            comment: (!comment.is_empty()).then(|| comment.to_string()),
        });
        keyed.nomination_lines.push(line);
    }
    if errors.is_empty() {
        Ok(keyed)
    } else {
        Err(errors)
    }
}

/// An entry's content in the line syntax, as the organizer's starting point when two entries
/// disagree. Reading it back gives the same content.
pub fn lines_of(content: &Content, set: &IndicatorSet) -> String {
    let mut out = String::new();
    for n in &content.nominations {
        let symbols: Vec<String> = n.indicators.iter().map(|c| symbol(c, set)).collect();
        let joined = if symbols.iter().all(|s| s.chars().count() == 1) {
            symbols.concat()
        } else {
            symbols.join(",")
        };
        out.push_str(&format!("{} {joined}", n.unit_id));
        if let Some(c) = &n.comment {
            out.push(' ');
            out.push_str(c);
        }
        out.push('\n');
    }
    if !content.exposure.is_empty() {
        let ids: Vec<String> = content.exposure.iter().map(i64::to_string).collect();
        out.push_str(&format!("办过事: {}\n", ids.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::KeyedNomination;

    fn set() -> IndicatorSet {
        IndicatorSet::default_five()
    }

    fn nom(unit_id: i64, indicators: &[&str], comment: Option<&str>) -> NominationDraft {
        NominationDraft {
            unit_id,
            indicators: indicators.iter().map(|s| s.to_string()).collect(),
            comment: comment.map(String::from),
        }
    }

    #[test]
    fn a_line_names_a_unit_its_indicators_and_a_comment() {
        let k = read_lines(
            "12 冷贪 要求请吃饭\n\n37 ls\n  40 C,g   态度 很差 \n办过事: 12 37，40",
            &set(),
        )
        .unwrap();
        assert_eq!(
            k.nominations,
            vec![
                nom(12, &["cold", "greedy"], Some("要求请吃饭")),
                nom(37, &["lazy", "shirking"], None),
                nom(40, &["cold", "greedy"], Some("态度 很差")),
            ]
        );
        assert_eq!(k.nomination_lines, vec![1, 3, 4]);
        assert_eq!(k.exposure, vec![12, 37, 40]);
        assert_eq!(k.exposure_lines, vec![5, 5, 5]);
    }

    #[test]
    fn full_width_digits_and_letters_and_the_short_exposure_line_are_read() {
        let k = read_lines("１２　ＬＳ\n7乱\nE: 7 12", &set()).unwrap();
        assert_eq!(
            k.nominations,
            vec![
                nom(12, &["lazy", "shirking"], None),
                nom(7, &["arbitrary"], None)
            ]
        );
        assert_eq!(k.exposure, vec![7, 12]);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let errors = read_lines("冷 12\n12 冷贪要求请吃饭\n5 c\n办过事: 3 x", &set()).unwrap_err();
        assert_eq!(
            errors,
            vec![
                LineError::NoUnitId { line: 1 },
                LineError::BadIndicator {
                    line: 2,
                    token: "冷贪要求请吃饭".into()
                },
                LineError::BadExposure {
                    line: 4,
                    token: "x".into()
                },
            ]
        );
        assert_eq!(
            errors.iter().map(LineError::line).collect::<Vec<_>>(),
            [1, 2, 4]
        );
    }

    #[test]
    fn an_entry_written_back_as_lines_reads_the_same() {
        let content = Content {
            nominations: vec![
                KeyedNomination {
                    unit_id: 3,
                    indicators: vec!["cold".into(), "greedy".into()],
                    comment: Some("要求请吃饭".into()),
                },
                KeyedNomination {
                    unit_id: 9,
                    indicators: vec!["shirking".into()],
                    comment: None,
                },
            ],
            exposure: vec![3, 4],
        };
        let text = lines_of(&content, &set());
        assert_eq!(text, "3 冷贪 要求请吃饭\n9 推\n办过事: 3 4\n");
        let k = read_lines(&text, &set()).unwrap();
        assert_eq!(
            k.nominations[0],
            nom(3, &["cold", "greedy"], Some("要求请吃饭"))
        );
        assert_eq!(k.exposure, vec![3, 4]);
    }

    #[test]
    fn every_indicator_has_a_symbol_that_reads_back_as_itself() {
        let set = set();
        for i in set.iter() {
            let typed = format!("1 {}", symbol(&i.code, &set));
            let k = read_lines(&typed, &set).unwrap();
            assert_eq!(k.nominations[0].indicators, std::slice::from_ref(&i.code));
        }
    }
}

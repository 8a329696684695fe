//! What each fuzz target checks, as plain functions of the fuzzer's bytes, so that the fuzz
//! targets and the domain's regression test (`crates/domain/tests/fuzz_regressions.rs`,
//! which includes this file) replay an input through exactly the same code.
//!
//! Every function must not panic on any input. Beyond "no panic", each asserts what the
//! domain promises: a parsed ballot holds exactly what was sent, a code that parses prints
//! and parses back to itself, an exported registry imports as it is, and so on. Only
//! `minping_domain`, `serde_json` and `chrono` are used (the domain crate's own dependencies).

use chrono::NaiveDate;
use minping_domain::{
    BallotDraft, BallotError, Channel, NominationDraft, Period, Settings, UnitId,
    code::{ALPHABET, CodeError, OneTimeCode},
    panel::{
        Frame, MemberDraft, NewMember, draw,
        draw::draw as draw_sample,
        import::{self, Table},
    },
    paper::{self, Content, KeyedNomination},
    report::{ReportDraft, ReportError},
    settings::{PanelSettings, RoundSettings},
};
use std::collections::HashSet;

/// A fuzz check: panics on a bug, returns on anything else.
pub type Check = fn(&[u8]);

/// Every target: its name (also the folder of its seeds and regressions) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("ballot_json", ballot_json),
    ("ballot_draft", ballot_draft),
    ("one_time_code", one_time_code),
    ("report_draft", report_draft),
    ("panel_sheet", panel_sheet),
    ("panel_roundtrip", panel_roundtrip),
    ("frame_text", frame_text),
    ("settings_toml", settings_toml),
    ("paper_lines", paper_lines),
];

/// The day the checks take as today.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("a real day")
}

/// The units the checks take as evaluated: 1 to 30.
fn is_evaluated(u: UnitId) -> bool {
    (1..=30).contains(&u.0)
}

/// Reads structure out of the fuzzer's bytes; past the end it reads zeros.
pub struct Bytes<'a>(&'a [u8]);

/// Pieces that the parsers treat specially: separators, quotes, formula marks, whitespace
/// that Rust's `trim` removes (and some it keeps), multi-byte characters, codes and headers.
const PIECES: &[&str] = &[
    " ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    ",",
    ";",
    "\"",
    "'",
    "=",
    "=\"",
    "+",
    "-",
    "@",
    "、",
    "；",
    "，",
    "很",
    "李明",
    "(",
    "（",
    "\u{feff}",
    "\u{3000}",
    "\u{85}",
    "\u{200b}",
    "\u{0}",
    "\u{1}",
    "_x0041_",
    "𝄞",
    "é",
    "1",
    "0",
    "138",
    "0838",
    "0001",
    "408400",
    "+86",
    "023",
    "cold",
    "lazy",
    "shirking",
    "arbitrary",
    "greedy",
    "open",
    "directed",
    "姓名",
    "电话",
    "类别",
    "地址",
    "邮编",
    "企业",
    "社区和村代表",
    "A",
    "7",
    "Q",
];

impl<'a> Bytes<'a> {
    /// Wraps the fuzzer's input.
    pub fn new(data: &'a [u8]) -> Self {
        Self(data)
    }

    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    /// Mostly small ids around the evaluated range, sometimes any i64.
    fn id(&mut self) -> i64 {
        match self.byte() {
            0..=239 => i64::from(self.byte() % 40) - 4,
            240..=247 => i64::MAX - i64::from(self.byte() % 3),
            248..=251 => i64::MIN + i64::from(self.byte() % 3),
            _ => i64::from_le_bytes(std::array::from_fn(|_| self.byte())),
        }
    }

    /// A text made of special pieces and raw characters.
    fn text(&mut self) -> String {
        let pieces = self.below(12);
        let mut s = String::new();
        for _ in 0..pieces {
            let b = self.byte();
            if usize::from(b) < PIECES.len() {
                s.push_str(PIECES[usize::from(b)]);
            } else if b < 200 {
                s.push(char::from(b - PIECES.len() as u8 + b' '));
            } else {
                let c = u32::from(b) << 8 | u32::from(self.byte());
                s.push(char::from_u32(c).unwrap_or('�'));
            }
        }
        s
    }

    /// `n` copies of a character, `n` near `limit` (to probe off-by-one limits), with
    /// optional whitespace around.
    fn long_text(&mut self, limit: usize) -> String {
        let n = (limit + self.below(3)).saturating_sub(1);
        let c = ['很', 'a', '𝄞', ' '][self.below(4)];
        let pad = [" ", "", "\u{3000}", "\n"][self.below(4)];
        format!("{pad}{}{pad}", c.to_string().repeat(n))
    }
}

fn text_of(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

// ---------------------------------------------------------------------------------------
// Ballots

/// A ballot body as JSON (what the API and the form post), parsed with the default settings.
pub fn ballot_json(data: &[u8]) {
    if let Ok(draft) = serde_json::from_slice::<BallotDraft>(data) {
        check_ballot(draft, &RoundSettings::default());
    }
}

/// A ballot built field by field from the bytes, parsed with varied K and comment limits.
pub fn ballot_draft(data: &[u8]) {
    let mut b = Bytes::new(data);
    let max_nominations = [1, 3, 5, 10][b.below(4)];
    let comment_max_chars = [1, 10, 500][b.below(3)];
    let settings = RoundSettings {
        max_nominations,
        comment_max_chars,
        ..RoundSettings::default()
    };
    let channel = match b.below(5) {
        0 | 1 => "open".to_string(),
        2 => "directed".to_string(),
        3 => ["Open", "", " open", "fax"][b.below(4)].to_string(),
        _ => b.text(),
    };
    let code = match b.below(3) {
        0 => None,
        1 => Some("ABCD-EFGH-JK".to_string()),
        _ => Some(b.text()),
    };
    let codes = ["cold", "lazy", "shirking", "arbitrary", "greedy"];
    let nominations = (0..b.below(13))
        .map(|_| NominationDraft {
            unit_id: b.id(),
            indicators: (0..b.below(7))
                .map(|_| match b.below(8) {
                    k @ 0..=4 => codes[k].to_string(),
                    5 => "COLD".to_string(),
                    6 => String::new(),
                    _ => b.text(),
                })
                .collect(),
            comment: match b.below(4) {
                0 => None,
                1 => Some(b.long_text(settings.comment_max_chars)),
                _ => Some(b.text()),
            },
        })
        .collect();
    let exposure = (0..b.below(6)).map(|_| b.id()).collect();
    check_ballot(
        BallotDraft {
            channel,
            code,
            nominations,
            exposure,
        },
        &settings,
    );
}

/// Parses a draft and checks the ballot holds exactly what was sent, or that the error
/// names a real field.
fn check_ballot(draft: BallotDraft, settings: &RoundSettings) {
    let sent = draft.clone();
    match draft.clone().parse(settings, is_evaluated) {
        Ok(ballot) => {
            assert_eq!(ballot.channel.as_str(), sent.channel);
            let code = sent
                .code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty());
            assert_eq!(ballot.code.as_deref(), code);
            if ballot.channel == Channel::Directed {
                assert!(ballot.code.is_some(), "a directed ballot without its code");
            }
            assert!(!ballot.nominations.is_empty());
            assert!(ballot.nominations.len() <= settings.max_nominations);
            assert_eq!(ballot.nominations.len(), sent.nominations.len());
            let mut units = HashSet::new();
            for (n, s) in ballot.nominations.iter().zip(&sent.nominations) {
                assert_eq!(n.unit_id.0, s.unit_id, "nominations keep their order");
                assert!(is_evaluated(n.unit_id));
                assert!(units.insert(n.unit_id), "a unit named twice");
                assert!(!n.indicators.is_empty());
                let ticked: HashSet<&str> = settings
                    .indicators
                    .codes(n.indicators)
                    .into_iter()
                    .collect();
                let asked: HashSet<&str> = s.indicators.iter().map(String::as_str).collect();
                assert_eq!(ticked, asked, "the indicators ticked are those sent");
                let comment = s
                    .comment
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty());
                assert_eq!(n.comment.as_deref(), comment);
                if let Some(c) = &n.comment {
                    assert!(c.chars().count() <= settings.comment_max_chars);
                }
            }
            let mut seen = HashSet::new();
            let expected: Vec<i64> = sent
                .exposure
                .iter()
                .copied()
                .filter(|u| seen.insert(*u))
                .collect();
            let exposure: Vec<i64> = ballot.exposure.iter().map(|u| u.0).collect();
            assert_eq!(exposure, expected);
            // The ballot read back as a draft parses to itself (what a receipt shows is
            // what was counted).
            let again = BallotDraft {
                channel: ballot.channel.as_str().to_string(),
                code: ballot.code.clone(),
                nominations: ballot
                    .nominations
                    .iter()
                    .map(|n| NominationDraft {
                        unit_id: n.unit_id.0,
                        indicators: settings
                            .indicators
                            .codes(n.indicators)
                            .into_iter()
                            .map(String::from)
                            .collect(),
                        comment: n.comment.clone(),
                    })
                    .collect(),
                exposure: exposure.clone(),
            };
            assert_eq!(again.parse(settings, is_evaluated).as_ref(), Ok(&ballot));
        }
        Err(e) => check_ballot_error(&e, &sent),
    }
}

fn check_ballot_error(e: &BallotError, sent: &BallotDraft) {
    assert!(!e.code().is_empty());
    assert!(!e.field().is_empty());
    assert!(!e.message_zh().is_empty());
    assert!(!e.to_string().is_empty());
    if let Some(i) = e.index() {
        assert!(
            i < sent.nominations.len(),
            "{e:?} points past the nominations"
        );
    }
    if let BallotError::UnknownExposureUnit { index, unit_id } = e {
        assert_eq!(sent.exposure.get(*index), Some(unit_id));
    }
    if let Some(u) = e.unit_id() {
        let named = sent.nominations.iter().any(|n| n.unit_id == u) || sent.exposure.contains(&u);
        assert!(named, "{e:?} names a unit that was not sent");
    }
}

// ---------------------------------------------------------------------------------------
// One-time codes

/// A typed code: a code that parses prints and parses back to itself, in any case; and a
/// code derived from the bytes, with one character changed, is always refused.
pub fn one_time_code(data: &[u8]) {
    let typed = text_of(data);
    match OneTimeCode::parse(&typed) {
        Ok(code) => {
            let s = code.as_str();
            assert_eq!(s.len(), 10);
            assert!(s.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(OneTimeCode::parse(&code.printed()).as_ref(), Ok(&code));
            assert_eq!(OneTimeCode::parse(&s.to_lowercase()).as_ref(), Ok(&code));
            assert_eq!(code.digest(b"key").len(), 64);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if data.len() >= 3 {
        let code = OneTimeCode::derive(data, i64::from(data[0]), i64::from(data[1]));
        let mut bytes = code.as_str().as_bytes().to_vec();
        let at = usize::from(data[2]) % bytes.len();
        let pos = ALPHABET
            .iter()
            .position(|&a| a == bytes[at])
            .expect("a code symbol");
        bytes[at] = ALPHABET[(pos + 1 + usize::from(data[data.len() - 1]) % 29) % 30];
        let typo = String::from_utf8(bytes).expect("ASCII");
        assert_eq!(OneTimeCode::parse(&typo), Err(CodeError::Check));
    }
}

// ---------------------------------------------------------------------------------------
// Reports

/// A report body as JSON: a report that parses is trimmed and within its limits.
pub fn report_draft(data: &[u8]) {
    let Ok(draft) = serde_json::from_slice::<ReportDraft>(data) else {
        return;
    };
    let sent = draft.clone();
    match draft.parse(today(), is_evaluated) {
        Ok(r) => {
            assert_eq!(r.unit_id.0, sent.unit_id);
            assert_eq!(r.description, sent.description.trim());
            assert!((10..=5000).contains(&r.description.chars().count()));
            for (got, sent) in [(&r.staff, &sent.staff), (&r.contact, &sent.contact)] {
                let want = sent.as_deref().map(str::trim).filter(|s| !s.is_empty());
                assert_eq!(got.as_deref(), want);
                assert!(got.as_ref().is_none_or(|s| s.chars().count() <= 200));
            }
            assert!(r.occurred_on.is_none_or(|d| d <= today()));
        }
        Err(e) => {
            assert!(!e.code().is_empty() && !e.field().is_empty());
            if let ReportError::UnknownUnit(u) = e {
                assert_eq!(u, sent.unit_id);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The panel registry

fn group_code(text: &str) -> Option<String> {
    PanelSettings::default().group_code(text)
}

/// Any file given to the importer: it is read or refused with a reason, never a panic; row
/// numbers point below the header in file order; every row is either accepted or refused;
/// the refused-rows file can be written.
pub fn panel_sheet(data: &[u8]) {
    let rows = match import::read_sheet(data) {
        Ok(rows) => rows,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(!rows.is_empty());
    for w in rows.windows(2) {
        assert!(
            w[0].row < w[1].row,
            "rows out of order: {} then {}",
            w[0].row,
            w[1].row
        );
    }
    assert!(rows[0].row >= 2, "a member row numbered {}", rows[0].row);
    let count = rows.len();
    let checked = import::check(rows, today(), group_code);
    assert_eq!(checked.accepted.len() + checked.rejected.len(), count);
    let all_new = vec![true; checked.accepted.len()];
    let report = checked.settle(&all_new, true);
    let table = report.rejected_table();
    let _ = table.to_csv();
    let _ = table.to_xlsx("rejected");
}

/// The registry's promise that an exported file imports as it is: members built from the
/// bytes, written as CSV and as XLSX the way `panel export` writes them, read back equal;
/// and the refused-rows file read back gives the refused rows as they were.
pub fn panel_roundtrip(data: &[u8]) {
    let mut b = Bytes::new(data);
    let settings = PanelSettings::default();
    let mut drafts = Vec::new();
    for _ in 0..1 + b.below(4) {
        let mut field = |good: &str| -> String {
            match b.below(4) {
                0 | 1 => good.to_string(),
                2 => format!("{good}{}", b.text()),
                _ => b.text(),
            }
        };
        drafts.push(MemberDraft {
            name: field("李明"),
            group: field("企业和市场主体"),
            address: field("重庆市南川区东城街道金佛大道1号"),
            postcode: field("408400"),
            phone: field("138 0838 0001"),
            units: field("不动产登记中心、企业注册科"),
            source: field("政务服务大厅"),
        });
    }
    // Members as the registry holds them: checked, each person once.
    let mut members: Vec<NewMember> = Vec::new();
    for d in &drafts {
        if let Ok(m) = d.clone().parse(today(), group_code)
            && !members
                .iter()
                .any(|o| o.name == m.name && o.phone == m.phone)
        {
            members.push(m);
        }
    }
    if !members.is_empty() {
        let table = Table {
            header: import::member_header(),
            rows: members
                .iter()
                .map(|m| import::member_cells(m, &settings.group_name_zh(&m.group)))
                .collect(),
        };
        let xlsx = table
            .to_xlsx("定向评议名单")
            .expect("an export can be written");
        for (kind, file) in [("CSV", table.to_csv()), ("XLSX", xlsx)] {
            let rows = import::read_sheet(&file).unwrap_or_else(|e| {
                panic!("the exported {kind} file of {members:?} is refused: {e}")
            });
            let checked = import::check(rows, today(), group_code);
            assert!(
                checked.rejected.is_empty(),
                "the exported {kind} file of {members:?} has refused rows: {:?}",
                checked.rejected
            );
            assert_eq!(
                checked.members(),
                members,
                "the exported {kind} file reads back different"
            );
        }
    }
    // The refused rows, written and read again, are the same rows.
    let rows: Vec<import::SheetRow> = drafts
        .into_iter()
        .enumerate()
        .map(|(i, draft)| import::SheetRow { row: i + 2, draft })
        .collect();
    let checked = import::check(rows, today(), group_code);
    let accepted = checked.accepted.len();
    let report = checked.settle(&vec![false; accepted], true);
    let table = report.rejected_table();
    let sent: Vec<MemberDraft> = report.rejected.iter().map(|r| r.draft.clone()).collect();
    // Only rows a file could have produced: the importer trims every cell and a blank row
    // is no row.
    let from_file = sent.iter().all(|d| {
        [
            &d.name,
            &d.group,
            &d.address,
            &d.postcode,
            &d.phone,
            &d.units,
            &d.source,
        ]
        .iter()
        .all(|f| f.trim() == f.as_str())
    });
    if from_file {
        let file = table.to_csv();
        let back: Vec<MemberDraft> = import::read_sheet(&file)
            .expect("a refused-rows file can be imported")
            .into_iter()
            .map(|r| r.draft)
            .collect();
        assert_eq!(back, sent, "the refused-rows file reads back different");
    }
}

// ---------------------------------------------------------------------------------------
// Draw frames

/// A published frame file: one that reads is canonical once written again, and a draw
/// from it takes the right number of distinct members, all from the frame.
pub fn frame_text(data: &[u8]) {
    let text = text_of(data);
    let Ok(frame) = Frame::from_text(&text) else {
        return;
    };
    let written = frame.to_text();
    if let Ok(again) = Frame::from_text(&written) {
        assert_eq!(
            again.to_text(),
            written,
            "a written frame reads back different"
        );
    }
    let n = data.first().map_or(0, |b| usize::from(*b) % 64);
    let sample: draw::Draw = draw_sample(&frame, n, "20260101");
    assert_eq!(sample.members.len(), n.min(frame.len()));
    assert_eq!(
        sample.allocation.values().sum::<usize>(),
        n.min(frame.len())
    );
    assert!(sample.members.windows(2).all(|w| w[0] < w[1]));
    let ids: HashSet<i64> = written
        .lines()
        .filter_map(|l| l.split_once(',')?.0.parse().ok())
        .collect();
    assert!(sample.members.iter().all(|m| ids.contains(m)));
}

// ---------------------------------------------------------------------------------------
// Settings

/// `minping.toml`: read or refused, never a panic; a file that reads gives a round snapshot
/// within the documented limits; a quarter label reads or is refused.
pub fn settings_toml(data: &[u8]) {
    let text = text_of(data);
    if let Ok(settings) = Settings::from_toml(&text) {
        let round = settings.round_settings();
        assert!((1..=100).contains(&round.max_nominations));
        assert!((1..=10_000).contains(&round.comment_max_chars));
        assert!(!round.indicators.is_empty() && round.indicators.len() <= 16);
        let _ = settings.tz();
    }
    if let Ok(label) = text.parse::<Period>() {
        assert_eq!(label.to_string().parse(), Ok(label));
        assert!(!label.display_zh().is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// Paper entry

/// What a clerk types for a paper form: read or refused line by line, never a panic. Every
/// refusal names a line that exists; every part read names the line it came from; and what
/// was read, written back in the keying syntax, reads back as the same.
pub fn paper_lines(data: &[u8]) {
    let text = text_of(data);
    let set = RoundSettings::default().indicators;
    let lines = text.lines().count();
    let keyed = match paper::read_lines(&text, &set) {
        Ok(keyed) => keyed,
        Err(errors) => {
            assert!(!errors.is_empty());
            assert!(errors.iter().all(|e| (1..=lines).contains(&e.line())));
            return;
        }
    };
    assert_eq!(keyed.nominations.len(), keyed.nomination_lines.len());
    assert_eq!(keyed.exposure.len(), keyed.exposure_lines.len());
    for line in keyed.nomination_lines.iter().chain(&keyed.exposure_lines) {
        assert!((1..=lines).contains(line));
    }
    for n in &keyed.nominations {
        assert!(n.indicators.iter().all(|c| set.position(c).is_some()));
        assert!(
            n.comment
                .as_ref()
                .is_none_or(|c| !c.is_empty() && c.trim() == c)
        );
    }
    let content = Content {
        nominations: keyed
            .nominations
            .iter()
            .map(|n| KeyedNomination {
                unit_id: n.unit_id,
                indicators: n.indicators.clone(),
                comment: n.comment.clone(),
            })
            .collect(),
        exposure: keyed.exposure.clone(),
    };
    let written = paper::lines_of(&content, &set);
    let again = paper::read_lines(&written, &set).expect("written lines read back");
    assert_eq!(again.nominations, keyed.nominations, "{written:?}");
    assert_eq!(again.exposure, keyed.exposure, "{written:?}");
}

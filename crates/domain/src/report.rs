//! Reports (举报): an allegation of misconduct — 吃拿卡要 and the like — against a unit and
//! optionally named staff. Investigators move a report through
//! `received → investigating → substantiated | unsubstantiated`; a substantiated report
//! puts its unit at rank 1 of one round, the first finalized after it (see [`Counted`]).

use crate::{Period, UnitId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt, str::FromStr};

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportSource {
    /// The public web form (anonymous or named).
    Web,
    /// A hotline call, keyed by staff.
    Hotline,
    /// A letter, keyed by staff.
    Letter,
    /// A visit in person, keyed by staff.
    Visit,
}

impl ReportSource {
    /// The source's code: `web`, `hotline`, `letter` or `visit`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportSource::Web => "web",
            ReportSource::Hotline => "hotline",
            ReportSource::Letter => "letter",
            ReportSource::Visit => "visit",
        }
    }
}

/// Where a report is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportState {
    /// Received, not yet assigned.
    Received,
    /// Under investigation.
    Investigating,
    /// Found true (查实); the disciplinary action is recorded.
    Substantiated,
    /// Not found true.
    Unsubstantiated,
}

impl ReportState {
    /// Every state, in workflow order.
    pub const ALL: [ReportState; 4] = [
        ReportState::Received,
        ReportState::Investigating,
        ReportState::Substantiated,
        ReportState::Unsubstantiated,
    ];

    /// The state's code.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Received => "received",
            ReportState::Investigating => "investigating",
            ReportState::Substantiated => "substantiated",
            ReportState::Unsubstantiated => "unsubstantiated",
        }
    }

    /// Whether the workflow allows moving from this state to `to`. A concluded report is
    /// final: reopening one would let a unit's rank change after publication.
    pub fn may_become(self, to: ReportState) -> bool {
        matches!(
            (self, to),
            (ReportState::Received, ReportState::Investigating)
                | (ReportState::Investigating, ReportState::Substantiated)
                | (ReportState::Investigating, ReportState::Unsubstantiated)
        )
    }

    /// Whether the investigation is over.
    pub fn is_concluded(self) -> bool {
        matches!(
            self,
            ReportState::Substantiated | ReportState::Unsubstantiated
        )
    }
}

impl fmt::Display for ReportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReportState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown report state `{s}`"))
    }
}

/// A report as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDraft {
    /// The unit reported.
    pub unit_id: i64,
    /// What happened.
    pub description: String,
    /// Named staff, if any.
    #[serde(default)]
    pub staff: Option<String>,
    /// How to reach the reporter, if they want to be reached (anonymous otherwise).
    #[serde(default)]
    pub contact: Option<String>,
    /// When it happened, if known.
    #[serde(default)]
    pub occurred_on: Option<NaiveDate>,
}

/// A checked report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// The unit.
    pub unit_id: UnitId,
    /// What happened.
    pub description: String,
    /// Named staff.
    pub staff: Option<String>,
    /// The reporter's contact (personal data: investigators only).
    pub contact: Option<String>,
    /// When it happened.
    pub occurred_on: Option<NaiveDate>,
}

/// What is wrong with a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// No such unit.
    #[error("unit {0} is not evaluated")]
    UnknownUnit(i64),
    /// Too short to investigate.
    #[error("describe what happened in at least 10 characters")]
    DescriptionTooShort,
    /// Too long.
    #[error("the description may have at most 5000 characters")]
    DescriptionTooLong,
    /// A field over its limit.
    #[error("{0} may have at most 200 characters")]
    FieldTooLong(&'static str),
    /// A date in the future.
    #[error("the date cannot be in the future")]
    FutureDate,
    /// More evidence files than a report takes.
    #[error("a report may carry at most {MAX_EVIDENCE_FILES} files")]
    TooManyFiles,
    /// One evidence file over its limit.
    #[error("{0} is larger than 10 MiB")]
    FileTooLarge(String),
    /// The evidence files together over their limit.
    #[error("the files together are larger than 20 MiB")]
    FilesTooLarge,
    /// A file that is not a photo, a PDF or a recording, whatever its name says.
    #[error("{0} is not a JPEG or PNG photo, a PDF, or an M4A or MP3 recording")]
    UnsupportedFileType(String),
}

impl ReportError {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::UnknownUnit(_) => "unknown_unit",
            ReportError::DescriptionTooShort => "description_too_short",
            ReportError::DescriptionTooLong => "description_too_long",
            ReportError::FieldTooLong(_) => "field_too_long",
            ReportError::FutureDate => "future_date",
            ReportError::TooManyFiles => "too_many_files",
            ReportError::FileTooLarge(_) => "file_too_large",
            ReportError::FilesTooLarge => "files_too_large",
            ReportError::UnsupportedFileType(_) => "unsupported_file_type",
        }
    }

    /// The field concerned.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::UnknownUnit(_) => "unit_id",
            ReportError::DescriptionTooShort | ReportError::DescriptionTooLong => "description",
            ReportError::FieldTooLong(f) => f,
            ReportError::FutureDate => "occurred_on",
            ReportError::TooManyFiles
            | ReportError::FileTooLarge(_)
            | ReportError::FilesTooLarge
            | ReportError::UnsupportedFileType(_) => "evidence",
        }
    }

    /// The file concerned, for an error about one evidence file.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            ReportError::FileTooLarge(name) | ReportError::UnsupportedFileType(name) => Some(name),
            _ => None,
        }
    }
}

fn optional(value: Option<String>, field: &'static str) -> Result<Option<String>, ReportError> {
    let v = value
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ReportError::FieldTooLong(field));
    }
    Ok(v)
}

impl ReportDraft {
    /// Checks a report against the evaluated units and today's date.
    pub fn parse(
        self,
        today: NaiveDate,
        is_unit: impl Fn(UnitId) -> bool,
    ) -> Result<NewReport, ReportError> {
        if !is_unit(UnitId(self.unit_id)) {
            return Err(ReportError::UnknownUnit(self.unit_id));
        }
        let description = self.description.trim().to_string();
        let len = description.chars().count();
        if len < 10 {
            return Err(ReportError::DescriptionTooShort);
        }
        if len > 5000 {
            return Err(ReportError::DescriptionTooLong);
        }
        if self.occurred_on.is_some_and(|d| d > today) {
            return Err(ReportError::FutureDate);
        }
        Ok(NewReport {
            unit_id: UnitId(self.unit_id),
            description,
            staff: optional(self.staff, "staff")?,
            contact: optional(self.contact, "contact")?,
            occurred_on: self.occurred_on,
        })
    }
}

/// At most this many evidence files come with a report.
pub const MAX_EVIDENCE_FILES: usize = 5;
/// The largest evidence file, in bytes (10 MiB).
pub const MAX_EVIDENCE_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The largest evidence files may be together, in bytes (20 MiB).
pub const MAX_EVIDENCE_TOTAL_BYTES: usize = 20 * 1024 * 1024;
/// The longest file name kept, in characters.
const MAX_FILE_NAME_CHARS: usize = 200;

/// What an evidence file (证据材料) is: a photo, a scanned document or a recording. Known
/// from the file's first bytes, never from the name or type the sender gives: an
/// investigator opens these files, so nothing else may pass for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvidenceKind {
    /// A JPEG photo.
    Jpeg,
    /// A PNG image (a screenshot, say).
    Png,
    /// A PDF document.
    Pdf,
    /// An M4A recording (what phones record).
    M4a,
    /// An MP3 recording.
    Mp3,
}

impl EvidenceKind {
    /// Every kind.
    pub const ALL: [EvidenceKind; 5] = [
        EvidenceKind::Jpeg,
        EvidenceKind::Png,
        EvidenceKind::Pdf,
        EvidenceKind::M4a,
        EvidenceKind::Mp3,
    ];

    /// The kind of a file by its magic bytes, if it is one of the kinds taken.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(EvidenceKind::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(EvidenceKind::Png),
            [b'%', b'P', b'D', b'F', b'-', ..] => Some(EvidenceKind::Pdf),
            // An ISO media file whose brand says audio only (not a video that could hide more).
            [
                _,
                _,
                _,
                _,
                b'f',
                b't',
                b'y',
                b'p',
                b'M',
                b'4',
                b'A',
                b' ',
                ..,
            ] => Some(EvidenceKind::M4a),
            [b'I', b'D', b'3', ..] => Some(EvidenceKind::Mp3),
            // An MPEG audio frame header: 11 sync bits, a defined version, layer III.
            [0xFF, b, ..] if b & 0xE6 == 0xE2 && b & 0x18 != 0x08 => Some(EvidenceKind::Mp3),
            _ => None,
        }
    }

    /// The media type the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            EvidenceKind::Jpeg => "image/jpeg",
            EvidenceKind::Png => "image/png",
            EvidenceKind::Pdf => "application/pdf",
            EvidenceKind::M4a => "audio/mp4",
            EvidenceKind::Mp3 => "audio/mpeg",
        }
    }

    /// The kind served with a media type.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        EvidenceKind::ALL
            .into_iter()
            .find(|k| k.content_type() == content_type)
    }

    /// The file name extensions of this kind, the usual one first.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            EvidenceKind::Jpeg => &["jpg", "jpeg"],
            EvidenceKind::Png => &["png"],
            EvidenceKind::Pdf => &["pdf"],
            EvidenceKind::M4a => &["m4a"],
            EvidenceKind::Mp3 => &["mp3"],
        }
    }
}

/// A sent file name without its folders, control or direction-changing characters (which
/// can make `gpj.exe` read as `exe.jpg`), surrounding blanks or leading dots.
fn base_name(sent: &str) -> String {
    let base: String = sent
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    base.trim().trim_start_matches('.').trim().to_string()
}

/// A file name fit to keep and to offer for download: its [`base_name`], at most 200
/// characters, ending in an extension of its kind (so `photo.html` holding a PNG becomes
/// `photo.html.png` and no program opens it as something else). Chinese and other scripts
/// are kept.
pub fn sanitize_file_name(sent: &str, kind: EvidenceKind) -> String {
    let base = base_name(sent);
    let (stem, extension) = match base.rsplit_once('.') {
        Some((stem, ext))
            if kind
                .extensions()
                .iter()
                .any(|e| e.eq_ignore_ascii_case(ext)) =>
        {
            (stem.trim_end(), ext)
        }
        _ => (base.as_str(), kind.extensions()[0]),
    };
    let stem = if stem.is_empty() { "evidence" } else { stem };
    let room = MAX_FILE_NAME_CHARS - extension.chars().count() - 1;
    let stem: String = stem.chars().take(room).collect();
    format!("{}.{extension}", stem.trim_end())
}

/// A checked evidence file: its kind known from its bytes, its name made safe, within the
/// size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidence {
    file_name: String,
    kind: EvidenceKind,
    bytes: Vec<u8>,
}

impl NewEvidence {
    /// Checks one file as sent: its name, and its bytes (the type the sender claims is not
    /// asked for: it proves nothing).
    pub fn parse(file_name: &str, bytes: Vec<u8>) -> Result<Self, ReportError> {
        let shown = || {
            base_name(file_name)
                .chars()
                .take(MAX_FILE_NAME_CHARS)
                .collect()
        };
        if bytes.len() > MAX_EVIDENCE_FILE_BYTES {
            return Err(ReportError::FileTooLarge(shown()));
        }
        let kind =
            EvidenceKind::sniff(&bytes).ok_or_else(|| ReportError::UnsupportedFileType(shown()))?;
        Ok(Self {
            file_name: sanitize_file_name(file_name, kind),
            kind,
            bytes,
        })
    }

    /// The file's name, safe to keep and show.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// What the file is.
    pub fn kind(&self) -> EvidenceKind {
        self.kind
    }

    /// The media type to serve it with.
    pub fn content_type(&self) -> &'static str {
        self.kind.content_type()
    }

    /// Its contents.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Checks the evidence files sent with a report, as (name, bytes): at most
/// [`MAX_EVIDENCE_FILES`], each within [`MAX_EVIDENCE_FILE_BYTES`], together within
/// [`MAX_EVIDENCE_TOTAL_BYTES`], each a kind taken. The first fault refuses them all: a
/// report is stored with all its files or not at all.
pub fn check_evidence(
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<Vec<NewEvidence>, ReportError> {
    let files: Vec<(String, Vec<u8>)> = files.into_iter().collect();
    if files.len() > MAX_EVIDENCE_FILES {
        return Err(ReportError::TooManyFiles);
    }
    let evidence = files
        .into_iter()
        .map(|(name, bytes)| NewEvidence::parse(&name, bytes))
        .collect::<Result<Vec<_>, _>>()?;
    if evidence.iter().map(|e| e.bytes.len()).sum::<usize>() > MAX_EVIDENCE_TOTAL_BYTES {
        return Err(ReportError::FilesTooLarge);
    }
    Ok(evidence)
}

/// A substantiated report not yet counted in any round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uncounted {
    /// The report.
    pub id: i64,
    /// The unit it was made against.
    pub unit_id: UnitId,
    /// The day it was substantiated.
    pub concluded_on: NaiveDate,
}

/// The substantiated reports a round counts, which put their units at rank 1.
///
/// A report counts in **one round only**: the first round finalized after it was
/// substantiated; finalizing records which reports the round counted, so no later round
/// counts them again. A round counts the reports not yet counted that were substantiated
/// from the first day of its period (or, if earlier, the day the previous round was
/// finalized: a report substantiated while no round was under way, in a quarter skipped, or
/// later on that day, still counts in the next round) through the day it is finalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// Reports per unit.
    pub per_unit: BTreeMap<UnitId, u32>,
    /// The reports, by id, to record as counted in the round.
    pub reports: Vec<i64>,
}

/// The reports a round of `period` finalized on `finalized_on` counts (see [`Counted`]);
/// `previous_finalized_on` is the day the round finalized before it was, if any.
pub fn counted_in_round(
    uncounted: &[Uncounted],
    period: Period,
    previous_finalized_on: Option<NaiveDate>,
    finalized_on: NaiveDate,
) -> Counted {
    let from = previous_finalized_on.map_or(period.start(), |d| d.min(period.start()));
    let mut counted = Counted {
        per_unit: BTreeMap::new(),
        reports: Vec::new(),
    };
    for r in uncounted {
        if (from..=finalized_on).contains(&r.concluded_on) {
            *counted.per_unit.entry(r.unit_id).or_insert(0) += 1;
            counted.reports.push(r.id);
        }
    }
    counted.reports.sort_unstable();
    counted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn the_workflow_moves_forward_and_a_concluded_report_is_final() {
        use ReportState::*;
        assert!(Received.may_become(Investigating));
        assert!(Investigating.may_become(Substantiated));
        assert!(Investigating.may_become(Unsubstantiated));
        assert!(
            !Received.may_become(Substantiated),
            "no conclusion without investigation"
        );
        for s in ReportState::ALL {
            assert!(!Substantiated.may_become(s) && !Unsubstantiated.may_become(s));
        }
    }

    #[test]
    fn a_report_needs_a_unit_and_a_real_description() {
        let ok = |_: UnitId| true;
        let draft = ReportDraft {
            unit_id: 3,
            description: "  办理不动产证时工作人员暗示要请吃饭才给加快  ".into(),
            staff: Some(" ".into()),
            contact: None,
            occurred_on: Some(day(10, 2)),
        };
        let r = draft.clone().parse(day(11, 27), ok).unwrap();
        assert_eq!(r.description, "办理不动产证时工作人员暗示要请吃饭才给加快");
        assert_eq!(r.staff, None);
        let short = ReportDraft {
            description: "太慢".into(),
            ..draft.clone()
        };
        assert_eq!(
            short.parse(day(11, 27), ok).unwrap_err().code(),
            "description_too_short"
        );
        let future = ReportDraft {
            occurred_on: Some(day(12, 1)),
            ..draft.clone()
        };
        assert_eq!(
            future.parse(day(11, 27), ok).unwrap_err().field(),
            "occurred_on"
        );
        assert_eq!(
            draft.parse(day(11, 27), |_| false).unwrap_err().code(),
            "unknown_unit"
        );
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    fn png(len: usize) -> Vec<u8> {
        let mut bytes = PNG.to_vec();
        bytes.resize(len, 0);
        bytes
    }

    #[test]
    fn a_files_kind_is_known_from_its_bytes_whatever_its_name_says() {
        let cases: [(&[u8], Option<EvidenceKind>); 9] = [
            (b"\xff\xd8\xff\xe0\0\x10JFIF", Some(EvidenceKind::Jpeg)),
            (PNG, Some(EvidenceKind::Png)),
            (PDF, Some(EvidenceKind::Pdf)),
            (b"\0\0\0\x20ftypM4A \0\0\0\0", Some(EvidenceKind::M4a)),
            (b"ID3\x04\0\0\0\0\0\0", Some(EvidenceKind::Mp3)),
            (b"\xff\xfb\x90\x64\0", Some(EvidenceKind::Mp3)),
            (b"\0\0\0\x20ftypisom\0\0\0\0", None),
            (b"MZ\x90\0\x03\0\0\0", None),
            (b"", None),
        ];
        for (bytes, kind) in cases {
            assert_eq!(EvidenceKind::sniff(bytes), kind, "{bytes:?}");
        }
        let exe = NewEvidence::parse("现场照片.png", b"MZ\x90\0 this program".to_vec());
        assert_eq!(
            exe.unwrap_err(),
            ReportError::UnsupportedFileType("现场照片.png".into())
        );
        let text = NewEvidence::parse("a.png", "他让我请客吃饭".as_bytes().to_vec());
        assert_eq!(text.unwrap_err().code(), "unsupported_file_type");
        let renamed = NewEvidence::parse("收据.pdf", PNG.to_vec()).unwrap();
        assert_eq!(
            (renamed.content_type(), renamed.file_name()),
            ("image/png", "收据.pdf.png")
        );
    }

    #[test]
    fn file_names_lose_folders_and_control_characters_and_keep_chinese() {
        let png = EvidenceKind::Png;
        let cases = [
            ("C:\\Users\\张三\\照片\\现场照片.PNG", "现场照片.PNG"),
            ("../../etc/passwd", "passwd.png"),
            ("  .bashrc  ", "bashrc.png"),
            ("收据\n\t\0 2026.png", "收据 2026.png"),
            ("photo\u{202E}gnp.exe", "photognp.exe.png"),
            ("page.html", "page.html.png"),
            ("", "evidence.png"),
            ("dir/", "evidence.png"),
        ];
        for (sent, kept) in cases {
            assert_eq!(sanitize_file_name(sent, png), kept, "{sent:?}");
        }
        assert_eq!(
            sanitize_file_name("扫描件.jpeg", EvidenceKind::Jpeg),
            "扫描件.jpeg"
        );
        let long = sanitize_file_name(&format!("{}.png", "证".repeat(300)), png);
        assert_eq!(long.chars().count(), 200);
        assert!(long.ends_with("证.png"));
    }

    #[test]
    fn a_report_takes_five_files_of_ten_mib_and_twenty_mib_in_all() {
        let named = |sizes: &[usize]| {
            sizes
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("{i}.png"), png(*n)))
                .collect::<Vec<_>>()
        };
        const MIB: usize = 1024 * 1024;
        assert_eq!(check_evidence(named(&[100; 5])).unwrap().len(), 5);
        assert_eq!(
            check_evidence(named(&[10 * MIB, 10 * MIB])).unwrap().len(),
            2
        );
        assert!(check_evidence(Vec::new()).unwrap().is_empty());
        assert_eq!(
            check_evidence(named(&[100; 6])).unwrap_err(),
            ReportError::TooManyFiles
        );
        assert_eq!(
            check_evidence(named(&[100, 10 * MIB + 1])).unwrap_err(),
            ReportError::FileTooLarge("1.png".into())
        );
        let too_much = check_evidence(named(&[10 * MIB, 10 * MIB, 100])).unwrap_err();
        assert_eq!(
            (too_much.code(), too_much.field()),
            ("files_too_large", "evidence")
        );
    }

    proptest::proptest! {
        #[test]
        fn a_kept_file_name_is_always_safe(sent in "\\PC{0,300}", k in 0..5usize) {
            let kind = EvidenceKind::ALL[k];
            let kept = sanitize_file_name(&sent, kind);
            proptest::prop_assert!(kept.chars().count() <= 200);
            proptest::prop_assert!(!kept.starts_with('.') && !kept.starts_with(' '));
            proptest::prop_assert!(!kept.chars().any(|c| c.is_control() || c == '/' || c == '\\'));
            let ext = kept.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            proptest::prop_assert!(kind.extensions().contains(&ext.as_str()), "{}", kept);
        }
    }

    fn uncounted(id: i64, unit: i64, concluded_on: NaiveDate) -> Uncounted {
        Uncounted {
            id,
            unit_id: UnitId(unit),
            concluded_on,
        }
    }

    #[test]
    fn a_round_counts_the_uncounted_reports_from_its_period_start_to_its_finalization() {
        let q4: Period = "2026Q4".parse().unwrap();
        let reports = [
            uncounted(1, 1, day(10, 5)),
            uncounted(2, 1, day(12, 31)),
            uncounted(3, 2, day(9, 30)),
            uncounted(4, 3, NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()),
            uncounted(5, 4, NaiveDate::from_ymd_opt(2027, 1, 20).unwrap()),
        ];
        let finalized = NaiveDate::from_ymd_opt(2027, 1, 16).unwrap();
        let counted = counted_in_round(&reports, q4, None, finalized);
        assert_eq!(
            counted.per_unit,
            BTreeMap::from([(UnitId(1), 2), (UnitId(3), 1)])
        );
        assert_eq!(counted.reports, [1, 2, 4]);
    }

    #[test]
    fn a_report_substantiated_in_a_skipped_quarter_counts_in_the_next_round() {
        // 2026Q2 finalized on 16 July; no round for Q3; 2026Q4 counts from 16 July. Report 1
        // was substantiated on 16 July after the finalization (one substantiated before it
        // would have been counted then, and so no longer be uncounted); report 3 was left
        // behind by an earlier window and stays out.
        let q4: Period = "2026Q4".parse().unwrap();
        let reports = [
            uncounted(1, 1, day(7, 16)),
            uncounted(2, 2, day(8, 20)),
            uncounted(3, 3, day(7, 15)),
        ];
        let counted = counted_in_round(&reports, q4, Some(day(7, 16)), day(12, 20));
        assert_eq!(counted.reports, [1, 2]);
    }
}

//! Printable forms for minping's evaluation (最难办事科室群众评议表), typeset with typst.
//!
//! Plain data in, bytes out: [`FormContent`] describes a round's form (indicators, the unit
//! list grouped by agency, instructions), [`Recipient`] one drawn panel member, and
//! [`Renderer`] makes
//! - the personalised A4 form of the directed channel ([`Renderer::personalised`]), or many
//!   of them merged into one PDF for the print shop ([`Renderer::personalised_batch`]);
//! - the open-channel form for the newspaper ([`Renderer::open_channel`]);
//! - PNG previews of a page ([`Renderer::personalised_png`]);
//! - the circulation notice (通报) of a round's results ([`Notice`], [`Renderer::notice`]).
//!
//! The Chinese font (a subset of Noto Sans CJK SC with every GB2312 character, SIL OFL 1.1,
//! see `fonts/LICENSE-OFL.txt` and `scripts/subset-font`) is compiled into the crate, so a
//! machine without any CJK font installed prints the same forms.
//!
//! # Personalised form (A4 portrait)
//! Page 1 carries the title, district and quarter, the recipient's address block, the code
//! (after the label `评议码：`) with its QR code and URL, the instructions and the
//! indicators; the unit list follows in two columns, one compact table per agency with a
//! drawn check box per indicator (about 100 units in 27 agencies fill pages 1 and 2: one
//! sheet printed on both sides), then the comment area. Every page's footer repeats the
//! layout id, the code and the form's own page number, so a clerk can put loose pages of
//! returned forms back together.
//!
//! A form is two layers: the base (everything without personal data), typeset once per call
//! and embedded in the PDF once, and a thin personal layer per recipient (address, code,
//! footers) drawn over it. That is what makes 1,000 forms take seconds rather than minutes
//! and keeps their PDF small.
//!
//! The address block is placed for a window envelope: its window area is **20 mm from the
//! left edge and 45 mm from the top of the sheet, 90 mm wide and 45 mm high** (the usual
//! position for DL 220×110 mm window envelopes, with the A4 sheet folded in three — fold
//! marks are printed at 99 mm and 198 mm — and for C5 window envelopes with the sheet folded
//! once). The code and QR code sit right of 110 mm, so they never show through the window.
//!
//! # Open-channel form (newspaper)
//! One landscape page of **390 mm × 270 mm** (half a 对开 broadsheet page), marked
//! 抽样评议（公开渠道）, with no personal data and no code; the units are set in three
//! columns beside the instructions, indicators and comment area.
//!
//! # Circulation notice (通报)
//! A4 portrait, set like an official document after GB/T 9704: the issuer as a red header
//! (红头), the document number (e.g. `南川评通〔2026〕3号`) and a red rule, the title, the
//! addressees, the body with two-character indents, the ranked units as a table (名次 / 单位 /
//! 主要问题) over as many pages as they need, the closing paragraphs, then signature and date
//! at the right. Pages are numbered `— 1 —`.

mod notice;
mod source;
mod world;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use typst::diag::SourceDiagnostic;
use typst::ecow::EcoVec;
use typst::foundations::{Bytes, Smart};
use typst::model::Document;
use typst::utils::Scalar;
use typst_layout::{Page, PagedDocument};

pub use crate::notice::{Notice, NoticeEntry};
use crate::source::Kind;
use crate::world::{Assets, FormWorld};

/// The embedded font: Noto Sans CJK SC Regular, subset by `scripts/subset-font`.
const FONT: &[u8] = include_bytes!("../fonts/NotoSansCJKsc-Regular-subset.otf");

/// Recipients per typst compilation of personal layers. Small enough that progress moves
/// often and both cores get work; large enough to spread each compilation's fixed cost
/// (evaluating the template and the unit list).
const OVERLAY_CHUNK: usize = 50;

/// How many `comemo::evict` calls a memoised result survives unused. Typst memoises layout
/// in a process-wide cache; evicting after each call keeps a long-running server's memory
/// bounded while still reusing the unit list's layout from one call to the next.
const CACHE_MAX_AGE: usize = 3;

/// What a round's form says: the same for every recipient and for the open channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormContent {
    /// The district (or city, province) running the evaluation, e.g. `南川区`.
    pub district: String,
    /// The round, e.g. `2026年第4季度`.
    pub round_label: String,
    /// The form layout id printed on every page, e.g. `MP-2026Q4-A`: it tells the clerk
    /// which unit list and numbering a returned paper form uses.
    pub layout_id: String,
    /// How many units one respondent may name (K, default 10 in minping).
    pub max_nominations: usize,
    /// The indicators in print order, each with the description people match against.
    pub indicators: Vec<IndicatorText>,
    /// The evaluated units, grouped by agency, in print order.
    pub agencies: Vec<AgencyUnits>,
    /// The instruction lines, printed as a numbered list on both forms, so they should not
    /// speak of the code (the personalised form explains its code beside the QR code). When
    /// empty, each form prints its own defaults: [`FormContent::default_instructions`] and
    /// [`FormContent::default_open_instructions`].
    pub instructions: Vec<String>,
    /// Where paper forms go back to, printed on the form (postal address with postcode and
    /// addressee, e.g. `408400 南川区作风办（民评）收 南川区东城街道…`).
    pub return_address: String,
}

/// One indicator as printed: its short name and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorText {
    /// The short name heading a check-box column, e.g. `冷`.
    pub name: String,
    /// What it means, e.g. `对群众冷漠，不设身处地为办事人着想`.
    pub description: String,
}

/// An agency and its evaluated units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyUnits {
    /// The agency's name, e.g. `区市场监督管理局`.
    pub agency: String,
    /// Its units: the number printed beside the unit (what respondents write in the comment
    /// area and clerks key in, e.g. the unit id) and the unit's name.
    pub units: Vec<(u32, String)>,
}

/// One drawn panel member, as printed on their personalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Name on the address block, e.g. `张伟`.
    pub name: String,
    /// Postal address, one line or several separated by `\n`.
    pub address: String,
    /// Postcode, e.g. `408400`.
    pub postcode: String,
    /// The one-time code as printed, e.g. `ABCD-EFGH-JK`; it follows the label `评议码：`.
    pub code: String,
    /// The online answering URL, ending in `#code=ABCDEFGHJK`; the QR code encodes exactly
    /// this string.
    pub url: String,
}

/// Why a form could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Typst rejected the form or notice (a bug in the template, or input it cannot lay out).
    #[error("typesetting the form failed: {0}")]
    Typeset(String),
    /// Typst laid the form out but could not write the PDF.
    #[error("writing the PDF failed: {0}")]
    Export(String),
    /// The rendered page could not be encoded as PNG.
    #[error("encoding the PNG failed: {0}")]
    Png(String),
    /// A page beyond the end of the form was asked for.
    #[error("the form has {pages} page(s), so there is no page index {index}")]
    NoSuchPage {
        /// The zero-based index asked for.
        index: usize,
        /// How many pages the form has.
        pages: usize,
    },
    /// The URL does not fit in a QR code.
    #[error("no QR code for the URL of code {code}: {reason}")]
    QrCode {
        /// The recipient's printed code.
        code: String,
        /// What the encoder said.
        reason: String,
    },
    /// Some text uses characters the embedded font lacks: they would print as empty boxes
    /// (on an envelope that can misdirect the letter). Check data up front with
    /// [`Renderer::unsupported_chars`]; widen the font with `scripts/subset-font`.
    #[error("{field} has characters the embedded font cannot print: {chars:?}")]
    UnsupportedChars {
        /// Which input, e.g. `recipients[17].name` or `agencies[3].units[2]`.
        field: String,
        /// The characters, in order of first appearance.
        chars: Vec<char>,
    },
    /// A batch with no recipients: a PDF needs at least one page.
    #[error("no recipients: nothing to print")]
    NoRecipients,
}

impl FormContent {
    /// The instructions the personalised form prints when [`FormContent::instructions`] is
    /// empty: how many units to name, how to mark them, that comments are optional and no
    /// name is needed, and how to send the form back or answer online instead.
    pub fn default_instructions(max_nominations: usize) -> Vec<String> {
        let mut lines = common_instructions(max_nominations);
        lines.push(
            "填好后请沿左侧折线折好，装入回邮信封寄回；也可以按右上方的说明在网上填写。\
             纸质和网上只能选一种。"
                .to_owned(),
        );
        lines
    }

    /// The instructions the open-channel (newspaper) form prints when
    /// [`FormContent::instructions`] is empty: as [`FormContent::default_instructions`],
    /// but the form is cut out (or copied) and mailed to the return address.
    pub fn default_open_instructions(max_nominations: usize) -> Vec<String> {
        let mut lines = common_instructions(max_nominations);
        lines.push(
            "本表剪下或复印均可使用，填好后请寄往下方的寄回地址；每人请只填一份。".to_owned(),
        );
        lines
    }
}

fn common_instructions(max_nominations: usize) -> Vec<String> {
    vec![
        format!(
            "请在下列科室中选出您认为最难办事的科室，最多{max_nominations}个，不必选满；\
             没有打过交道的科室请不要选。"
        ),
        "对选出的每个科室，在该行相应指标（冷、懒、推、乱、贪）的方框内打“✓”，\
         至少勾一项，可多选。"
            .to_owned(),
        "如有具体问题，请在“意见和建议”栏写明科室序号和问题经过；不写也可以。".to_owned(),
        "本表不需要署名，评议结果只做统计，不追查填表人。".to_owned(),
    ]
}

/// Makes the forms and notices. Parses the embedded font and builds typst's standard library once;
/// create one and share it (it is `Send + Sync`).
pub struct Renderer {
    assets: Assets,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    /// Parses the embedded font and prepares typst.
    pub fn new() -> Self {
        Self {
            assets: Assets::new(&[FONT]),
        }
    }

    /// The characters of `text` the embedded font cannot print (whitespace and control
    /// characters aside), each once, in order of first appearance. Rendering refuses such
    /// input with [`PdfError::UnsupportedChars`]; check a whole sample up front with this.
    pub fn unsupported_chars(&self, text: &str) -> Vec<char> {
        let mut missing = Vec::new();
        for c in text.chars() {
            if c.is_whitespace() || c.is_control() || missing.contains(&c) {
                continue;
            }
            if !self
                .assets
                .fonts()
                .iter()
                .any(|f| f.info().coverage.contains(c as u32))
            {
                missing.push(c);
            }
        }
        missing
    }

    /// One personalised form of the directed channel: A4, 2 pages for ~100 units in 27
    /// agencies (one sheet printed on both sides).
    pub fn personalised(
        &self,
        content: &FormContent,
        who: &Recipient,
    ) -> Result<Vec<u8>, PdfError> {
        let doc = self.personalised_document(content, std::slice::from_ref(who), &|_| {})?;
        export(&doc)
    }

    /// Many personalised forms merged into one PDF, in the order of `who` (the post office's
    /// order), calling `progress(done)` with the number of finished forms as it goes (from
    /// the calling thread). The personal layers are typeset in chunks on all cores.
    pub fn personalised_batch(
        &self,
        content: &FormContent,
        who: &[Recipient],
        progress: &dyn Fn(usize),
    ) -> Result<Vec<u8>, PdfError> {
        if who.is_empty() {
            return Err(PdfError::NoRecipients);
        }
        let doc = self.personalised_document(content, who, progress)?;
        export(&doc)
    }

    /// The open-channel form: one landscape page of 390 mm × 270 mm (half a broadsheet
    /// page) for the newspaper, marked 抽样评议（公开渠道）, with no personal data or code.
    pub fn open_channel(&self, content: &FormContent) -> Result<Vec<u8>, PdfError> {
        self.check_content(content)?;
        let doc = self.compile(content, Kind::OpenChannel);
        typst::comemo::evict(CACHE_MAX_AGE);
        export(&doc?)
    }

    /// Page `page` (zero-based) of `who`'s personalised form as PNG, at `pixels_per_pt`
    /// pixels per typographic point (2.0 ≈ 144 dpi; 4.0 ≈ 288 dpi).
    pub fn personalised_png(
        &self,
        content: &FormContent,
        who: &Recipient,
        page: usize,
        pixels_per_pt: f32,
    ) -> Result<Vec<u8>, PdfError> {
        let doc = self.personalised_document(content, std::slice::from_ref(who), &|_| {})?;
        let pages = doc.pages();
        let found = pages.get(page).ok_or(PdfError::NoSuchPage {
            index: page,
            pages: pages.len(),
        })?;
        let options = typst_render::RenderOptions {
            pixel_per_pt: Scalar::new(f64::from(pixels_per_pt)),
            ..Default::default()
        };
        typst_render::render(found, &options)
            .encode_png()
            .map_err(|e| PdfError::Png(e.to_string()))
    }

    /// Lays out the forms of `who` as one document: the base layer once, then the personal
    /// layers, drawn over the base's PDF pages, in parallel chunks.
    fn personalised_document(
        &self,
        content: &FormContent,
        who: &[Recipient],
        progress: &dyn Fn(usize),
    ) -> Result<PagedDocument, PdfError> {
        self.check_content(content)?;
        for (i, r) in who.iter().enumerate() {
            self.check_recipient(i, r)?;
        }
        let result = self.lay_out_forms(content, who, progress);
        // Typst memoises layout in a process-wide cache: trim it once the batch is done.
        typst::comemo::evict(CACHE_MAX_AGE);
        result
    }

    fn lay_out_forms(
        &self,
        content: &FormContent,
        who: &[Recipient],
        progress: &dyn Fn(usize),
    ) -> Result<PagedDocument, PdfError> {
        let base = self.compile(content, Kind::Base)?;
        let per_form = base.pages().len();
        let base_pdf = Bytes::new(export(&base)?);
        let chunks: Vec<&[Recipient]> = who.chunks(OVERLAY_CHUNK).collect();
        let overlays = self.in_parallel(&chunks, progress, |chunk| {
            let source = source::main_source(
                content,
                Kind::Overlay {
                    who: chunk,
                    pages: per_form,
                },
            )?;
            let world = FormWorld::new(&self.assets, source).with_base_pdf(base_pdf.clone());
            let overlay = compile(&world)?;
            if overlay.pages().len() != chunk.len() * per_form {
                return Err(PdfError::Typeset(format!(
                    "the personal layer of {} forms has {} pages instead of {}",
                    chunk.len(),
                    overlay.pages().len(),
                    chunk.len() * per_form
                )));
            }
            Ok(overlay)
        })?;
        // The chunks were laid out separately; their pages join into one document, exported
        // once, so the font and the base pages are embedded once.
        let pages: EcoVec<Page> = overlays
            .iter()
            .flat_map(|o| o.pages().iter().cloned())
            .collect();
        Ok(PagedDocument::new(pages, base.info().clone()))
    }

    /// Runs `job` on every chunk on all cores and returns the results in chunk order,
    /// calling `progress` on this thread with the number of recipients done so far. Stops
    /// at the first error.
    fn in_parallel<T: Send>(
        &self,
        chunks: &[&[Recipient]],
        progress: &dyn Fn(usize),
        job: impl Fn(&[Recipient]) -> Result<T, PdfError> + Sync,
    ) -> Result<Vec<T>, PdfError> {
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(chunks.len());
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel();
        let mut results: Vec<Option<T>> =
            std::iter::repeat_with(|| None).take(chunks.len()).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let (tx, next, job) = (tx.clone(), &next, &job);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else { break };
                        let result = job(chunk);
                        let failed = result.is_err();
                        if tx.send((i, result)).is_err() || failed {
                            // The batch is lost anyway: let the other workers stop too.
                            next.store(chunks.len(), Ordering::Relaxed);
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut done = 0;
            for (i, result) in rx {
                results[i] = Some(result?);
                done += chunks[i].len();
                progress(done);
            }
            Ok::<(), PdfError>(())
        })?;
        Ok(results.into_iter().flatten().collect())
    }

    fn compile(&self, content: &FormContent, kind: Kind<'_>) -> Result<PagedDocument, PdfError> {
        compile(&FormWorld::new(
            &self.assets,
            source::main_source(content, kind)?,
        ))
    }

    fn check(&self, field: impl FnOnce() -> String, text: &str) -> Result<(), PdfError> {
        let chars = self.unsupported_chars(text);
        if chars.is_empty() {
            Ok(())
        } else {
            Err(PdfError::UnsupportedChars {
                field: field(),
                chars,
            })
        }
    }

    fn check_content(&self, c: &FormContent) -> Result<(), PdfError> {
        self.check(|| "district".into(), &c.district)?;
        self.check(|| "round_label".into(), &c.round_label)?;
        self.check(|| "layout_id".into(), &c.layout_id)?;
        self.check(|| "return_address".into(), &c.return_address)?;
        for (i, ind) in c.indicators.iter().enumerate() {
            self.check(|| format!("indicators[{i}].name"), &ind.name)?;
            self.check(|| format!("indicators[{i}].description"), &ind.description)?;
        }
        for (i, a) in c.agencies.iter().enumerate() {
            self.check(|| format!("agencies[{i}].agency"), &a.agency)?;
            for (j, (_, unit)) in a.units.iter().enumerate() {
                self.check(|| format!("agencies[{i}].units[{j}]"), unit)?;
            }
        }
        for (i, line) in c.instructions.iter().enumerate() {
            self.check(|| format!("instructions[{i}]"), line)?;
        }
        Ok(())
    }

    fn check_recipient(&self, i: usize, r: &Recipient) -> Result<(), PdfError> {
        self.check(|| format!("recipients[{i}].name"), &r.name)?;
        self.check(|| format!("recipients[{i}].address"), &r.address)?;
        self.check(|| format!("recipients[{i}].postcode"), &r.postcode)?;
        self.check(|| format!("recipients[{i}].code"), &r.code)?;
        self.check(|| format!("recipients[{i}].url"), &r.url)
    }
}

fn compile(world: &FormWorld<'_>) -> Result<PagedDocument, PdfError> {
    typst::compile::<PagedDocument>(world)
        .output
        .map_err(|errors| PdfError::Typeset(messages(&errors)))
}

/// Writes `doc` as PDF, untagged: both forms are made for paper (the online form is the
/// accessible way to answer), stacked personalised pages have no single structure tree, and
/// typst's tagged output is 3× larger and draws syntax warnings from poppler 22.
fn export(doc: &PagedDocument) -> Result<Vec<u8>, PdfError> {
    let options = typst_pdf::PdfOptions {
        creator: Smart::Custom(Some("minping".to_owned())),
        tagged: false,
        ..Default::default()
    };
    typst_pdf::pdf(doc, &options).map_err(|errors| PdfError::Export(messages(&errors)))
}

fn messages(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renderer_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Renderer>();
    }

    #[test]
    fn every_layer_compiles_without_warnings() {
        // A warning would mean e.g. a font typst cannot find (falling back to empty boxes).
        let renderer = Renderer::new();
        let content = FormContent {
            district: "南川区".into(),
            round_label: "2026年第4季度".into(),
            layout_id: "MP-TEST".into(),
            max_nominations: 10,
            indicators: vec![IndicatorText {
                name: "冷".into(),
                description: "态度冷漠".into(),
            }],
            agencies: vec![AgencyUnits {
                agency: "区民政局".into(),
                units: vec![(1, "婚姻登记处".into())],
            }],
            instructions: Vec::new(),
            return_address: "408400 南川区作风办".into(),
        };
        let who = [Recipient {
            name: "张三".into(),
            address: "南川区东城街道1号".into(),
            postcode: "408400".into(),
            code: "ABCD-EFGH-JK".into(),
            url: "https://example.cn/b#code=ABCDEFGHJK".into(),
        }];
        let compile = |kind, base: Option<Bytes>| {
            let source = source::main_source(&content, kind).unwrap();
            let mut world = FormWorld::new(&renderer.assets, source);
            if let Some(base) = base {
                world = world.with_base_pdf(base);
            }
            let warned = typst::compile::<PagedDocument>(&world);
            let warnings: Vec<_> = warned.warnings.iter().map(|w| w.message.clone()).collect();
            assert!(warnings.is_empty(), "{warnings:?}");
            warned.output.unwrap()
        };
        let base = compile(Kind::Base, None);
        let base_pdf = Bytes::new(export(&base).unwrap());
        let pages = base.pages().len();
        let overlay = compile(Kind::Overlay { who: &who, pages }, Some(base_pdf));
        assert_eq!(overlay.pages().len(), pages);
        compile(Kind::OpenChannel, None);
    }
}

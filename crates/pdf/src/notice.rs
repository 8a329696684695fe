//! The circulation notice (通报) of a round's results: the ranked hardest-to-deal-with units,
//! set as a Chinese official document (公文).

use crate::{CACHE_MAX_AGE, PdfError, Renderer, compile, export, source, world::FormWorld};

/// A circulation notice (通报) publishing a round's results, e.g. 关于2026年第三季度“最难办事
/// 科室”群众评议结果的通报: who issues it, to whom, the ranked units and what follows for them.
///
/// Every text prints as written (nothing is read as markup) and must use characters of the
/// embedded font, or [`Renderer::notice`] refuses it with [`PdfError::UnsupportedChars`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The issuing body, printed in red as the document's header (红头), e.g.
    /// `中共重庆市南川区委办公室` or `南川区最难办事科室群众评议活动领导小组办公室`. It is set
    /// on one line as large as fits; add `文件` yourself if the header should say so.
    pub issuer: String,
    /// The document number (发文字号), e.g. `南川评通〔2026〕3号`, centred under the header.
    pub number: String,
    /// The title, e.g. `关于2026年第三季度“最难办事科室”群众评议结果的通报`.
    pub title: String,
    /// The addressees (主送机关) with their closing colon, e.g.
    /// `各乡镇（街道）党（工）委、政府（办事处），区级各部门：`.
    pub addressee: String,
    /// The body paragraphs before the ranked list (how the evaluation ran, who took part),
    /// usually ending in a lead-in such as `现将评议结果通报如下：`.
    pub opening: Vec<String>,
    /// The ranked units, in print order; with none, no table is printed.
    pub entries: Vec<NoticeEntry>,
    /// The paragraphs after the ranked list: the sanctions that follow (谈话提醒、约谈、暂缓
    /// 提拔…) and the deadline for rectification. The last one is kept on the page of the
    /// signature.
    pub closing: Vec<String>,
    /// The issuing body as signed (发文机关署名), e.g. `中共重庆市南川区委办公室`.
    pub signature: String,
    /// The date as printed (成文日期), e.g. `2026年10月15日` (Arabic numerals, as GB/T 9704
    /// writes it).
    pub date: String,
}

/// One ranked unit of a [`Notice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEntry {
    /// Its place in the ranking, 1 being the hardest to deal with (名次).
    pub rank: u32,
    /// The agency the unit belongs to, e.g. `区市场监管局`. It is printed directly before
    /// the unit (`区市场监管局企业注册科`); leave it empty when [`NoticeEntry::unit`]
    /// already names the agency, e.g. `区不动产登记中心`.
    pub agency: String,
    /// The unit, e.g. `企业注册科`.
    pub unit: String,
    /// The main problems found, e.g. `冷（态度生硬）、推（推诿扯皮）`.
    pub main_problems: String,
    /// Why the rank is not the vote's, when it is not, e.g.
    /// `经查实存在吃拿卡要问题，直接列第1名`; printed under the unit after `注：`.
    pub override_note: Option<String>,
}

impl Renderer {
    /// The circulation notice as an A4 PDF in the style of an official document (GB/T 9704):
    /// the issuer as a red header, the document number and a red rule under it, the title,
    /// the addressees, the opening paragraphs, the ranked units as a table (名次 / 单位 /
    /// 主要问题, its header repeated on every page it reaches, with any override note under
    /// the unit), the closing paragraphs, then signature and date at the right. Pages are
    /// numbered `— 1 —`. Refuses text the embedded font cannot print with
    /// [`PdfError::UnsupportedChars`], naming the field (e.g. `entries[3].unit`).
    pub fn notice(&self, notice: &Notice) -> Result<Vec<u8>, PdfError> {
        self.check_notice(notice)?;
        let doc = compile(&FormWorld::new(&self.assets, source::notice_source(notice)));
        typst::comemo::evict(CACHE_MAX_AGE);
        export(&doc?)
    }

    fn check_notice(&self, n: &Notice) -> Result<(), PdfError> {
        self.check(|| "issuer".into(), &n.issuer)?;
        self.check(|| "number".into(), &n.number)?;
        self.check(|| "title".into(), &n.title)?;
        self.check(|| "addressee".into(), &n.addressee)?;
        for (i, p) in n.opening.iter().enumerate() {
            self.check(|| format!("opening[{i}]"), p)?;
        }
        for (i, e) in n.entries.iter().enumerate() {
            self.check(|| format!("entries[{i}].agency"), &e.agency)?;
            self.check(|| format!("entries[{i}].unit"), &e.unit)?;
            self.check(|| format!("entries[{i}].main_problems"), &e.main_problems)?;
            if let Some(note) = &e.override_note {
                self.check(|| format!("entries[{i}].override_note"), note)?;
            }
        }
        for (i, p) in n.closing.iter().enumerate() {
            self.check(|| format!("closing[{i}]"), p)?;
        }
        self.check(|| "signature".into(), &n.signature)?;
        self.check(|| "date".into(), &n.date)
    }
}

#[cfg(test)]
mod tests {
    use typst_layout::PagedDocument;

    use super::*;
    use crate::source::NOTICE_TEMPLATE;

    fn small_notice() -> Notice {
        Notice {
            issuer: "南川区最难办事科室群众评议活动领导小组办公室".into(),
            number: "南川评通〔2026〕3号".into(),
            title: "关于2026年第三季度“最难办事科室”群众评议结果的通报".into(),
            addressee: "各乡镇（街道）党（工）委、政府（办事处），区级各部门：".into(),
            opening: vec!["现将评议结果通报如下：".into()],
            entries: vec![NoticeEntry {
                rank: 1,
                agency: "区市场监管局".into(),
                unit: "企业注册科".into(),
                main_problems: "冷（态度生硬）".into(),
                override_note: Some("经查实存在吃拿卡要问题，直接列第1名".into()),
            }],
            closing: vec!["请认真整改。".into()],
            signature: "南川区最难办事科室群众评议活动领导小组办公室".into(),
            date: "2026年10月15日".into(),
        }
    }

    #[test]
    fn notice_compiles_without_warnings() {
        // A warning would mean e.g. a font typst cannot find (falling back to empty boxes).
        let renderer = Renderer::new();
        let mut bare = small_notice();
        bare.opening.clear();
        bare.entries.clear();
        bare.closing.clear();
        for notice in [small_notice(), bare] {
            let world = FormWorld::new(&renderer.assets, source::notice_source(&notice));
            let warned = typst::compile::<PagedDocument>(&world);
            let warnings: Vec<_> = warned.warnings.iter().map(|w| w.message.clone()).collect();
            assert!(warnings.is_empty(), "{warnings:?}");
            warned.output.unwrap();
        }
    }

    #[test]
    fn the_notice_templates_own_text_is_in_the_font() {
        // Headings, 注：, the page number's dashes: what the template prints besides the data.
        let missing = Renderer::new().unsupported_chars(NOTICE_TEMPLATE);
        assert!(missing.is_empty(), "{missing:?}");
    }
}

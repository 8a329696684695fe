//! What a person checks on the printed forms: the QR code scans back to the URL, the text
//! is really there (and Chinese), batches keep their order, the open form carries no code.
//! Needs poppler-utils (`pdftotext`, `pdfinfo`).

mod common;
mod poppler;

use std::sync::{LazyLock, Mutex};

use minping_pdf::{PdfError, Renderer};
use poppler::{pages_and_size, pdftotext, poppler, raw_squeezed};

static RENDERER: LazyLock<Renderer> = LazyLock::new(Renderer::new);

#[test]
fn qr_code_on_page_one_reads_back_as_the_url() {
    let who = common::zhang();
    let png = RENDERER
        .personalised_png(&common::content(), &who, 0, 3.0)
        .unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code on page 1");
    let (_, decoded) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(decoded, who.url);
    assert!(decoded.ends_with("#code=ABCDEFGHJK"));
}

#[test]
fn personalised_form_text_comes_back_from_pdftotext() {
    let content = common::content();
    let who = common::zhang();
    let pdf = RENDERER.personalised(&content, &who).unwrap();
    let text = pdftotext(&pdf);
    let flat = raw_squeezed(&pdf);
    assert!(text.contains("最难办事科室群众评议表"), "title in:\n{text}");
    assert!(
        text.contains("评议码：ABCD-EFGH-JK"),
        "label and code in:\n{text}"
    );
    assert!(text.contains("张晓燕"), "recipient name");
    assert!(
        flat.contains("重庆市南川区东城街道金佛大道38号2单元5-1"),
        "recipient address"
    );
    assert!(text.contains("408400"), "postcode");
    assert!(text.contains("2026年第4季度"), "round");
    for unit in [
        "不动产登记中心",
        "婚姻登记处",
        "出入境管理科",
        "政府采购交易科",
    ] {
        assert!(text.contains(unit), "unit {unit}");
    }
    assert_eq!(
        common::unit_names()
            .iter()
            .filter(|u| flat.contains(**u))
            .count(),
        common::unit_names().len(),
        "every unit is listed"
    );
    for ind in &content.indicators {
        assert!(
            flat.contains(&ind.description),
            "indicator description {}",
            ind.description
        );
    }
    assert!(flat.contains("意见和建议"), "comment area");
    assert!(flat.contains("区委作风办（民评）收"), "return address");
    assert!(
        !text.contains("抽样评议"),
        "the directed form is not marked as the open channel"
    );
    let (pages, w, h) = pages_and_size(&pdf);
    assert!(
        (209.0..211.0).contains(&w) && (296.0..298.0).contains(&h),
        "A4, got {w}×{h} mm"
    );
    assert!(
        (2..=3).contains(&pages),
        "100 units take 2 or 3 pages, got {pages}"
    );
}

#[test]
fn layout_id_is_on_both_forms() {
    let content = common::content();
    let personal = pdftotext(&RENDERER.personalised(&content, &common::zhang()).unwrap());
    let open = pdftotext(&RENDERER.open_channel(&content).unwrap());
    assert!(personal.contains("MP-2026Q4-A"));
    assert!(open.contains("MP-2026Q4-A"));
}

#[test]
fn batch_keeps_the_forms_in_order_and_reports_progress() {
    let content = common::content();
    let who: Vec<_> = (0..5).map(common::recipient).collect();
    let seen = Mutex::new(Vec::new());
    let pdf = RENDERER
        .personalised_batch(&content, &who, &|done| seen.lock().unwrap().push(done))
        .unwrap();
    let text = pdftotext(&pdf);
    // Codes in order through the whole document...
    let mut at = 0;
    for r in &who {
        let label = format!("评议码：{}", r.code);
        let found = text[at..]
            .find(&label)
            .unwrap_or_else(|| panic!("{label} after byte {at}"));
        at += found + label.len();
    }
    // ...and each form's pages carry its own code and recipient, none of another's.
    let per_form = pages_and_size(&RENDERER.personalised(&content, &who[0]).unwrap()).0;
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(pages.len(), 5 * per_form, "every form has all its pages");
    for (i, form) in pages.chunks(per_form).enumerate() {
        assert!(
            form[0].contains(&who[i].name),
            "form {i} is addressed to {}",
            who[i].name
        );
        for page in form {
            assert!(
                page.contains(&who[i].code),
                "every page of form {i} shows its code"
            );
            for (j, other) in who.iter().enumerate() {
                assert!(
                    j == i || !page.contains(&other.code),
                    "form {i} shows no other code"
                );
            }
        }
    }
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen.last(),
        Some(&5),
        "progress ends at the number of forms"
    );
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "progress only grows: {seen:?}"
    );
}

#[test]
fn every_page_names_its_form() {
    // Loose pages of returned forms must be matched up again: each page shows the code.
    let content = common::content();
    let who = common::zhang();
    let pdf = RENDERER.personalised(&content, &who).unwrap();
    let text = pdftotext(&pdf);
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 2);
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains("ABCD-EFGH-JK"),
            "page {} shows the code",
            i + 1
        );
        assert!(
            page.contains(&format!("第{}页", i + 1)),
            "page {} is numbered",
            i + 1
        );
    }
}

#[test]
fn open_channel_form_has_no_code_and_is_marked() {
    let content = common::content();
    let pdf = RENDERER.open_channel(&content).unwrap();
    let text = pdftotext(&pdf);
    let flat = raw_squeezed(&pdf);
    assert!(text.contains("抽样评议（公开渠道）"), "marking in:\n{text}");
    assert!(!text.contains("评议码"), "no code on the open form");
    assert!(!text.contains("定向评议"));
    assert!(text.contains("最难办事科室群众评议表"));
    assert_eq!(
        common::unit_names()
            .iter()
            .filter(|u| flat.contains(**u))
            .count(),
        common::unit_names().len(),
        "every unit is listed"
    );
    for ind in &content.indicators {
        assert!(flat.contains(&ind.description));
    }
    let (pages, w, h) = pages_and_size(&pdf);
    assert_eq!(pages, 1, "one newspaper half page");
    assert!(
        (389.0..391.0).contains(&w) && (269.0..271.0).contains(&h),
        "390×270 mm, got {w}×{h}"
    );
}

#[test]
fn data_is_printed_as_written_not_read_as_markup() {
    let mut content = common::content();
    content.agencies[0].units[0].1 = "*投资*科 #let _x = 1 $".into();
    let mut who = common::zhang();
    who.name = "\"张\" \\ [三]".into();
    let text = pdftotext(&RENDERER.personalised(&content, &who).unwrap());
    assert!(text.contains("*投资*科 #let _x = 1 $"), "{text}");
    assert!(text.contains("\"张\" \\ [三]"));
}

#[test]
fn characters_the_font_lacks_are_refused_by_name() {
    // 𠀀 (U+20000) is far outside GB2312: printing it would leave an empty box on the envelope.
    assert_eq!(RENDERER.unsupported_chars("张三𠀀 路"), vec!['𠀀']);
    assert!(
        RENDERER
            .unsupported_chars("喆堃玥 ABC-123（）：")
            .is_empty()
    );
    let mut who = common::zhang();
    who.address.push('𠀀');
    match RENDERER.personalised(&common::content(), &who) {
        Err(PdfError::UnsupportedChars { field, chars }) => {
            assert_eq!(field, "recipients[0].address");
            assert_eq!(chars, vec!['𠀀']);
        }
        other => panic!("expected UnsupportedChars, got {other:?}"),
    }
}

#[test]
fn asking_for_a_missing_page_or_an_empty_batch_is_an_error() {
    let content = common::content();
    assert!(matches!(
        RENDERER.personalised_png(&content, &common::zhang(), 99, 1.0),
        Err(PdfError::NoSuchPage { index: 99, .. })
    ));
    assert!(matches!(
        RENDERER.personalised_batch(&content, &[], &|_| {}),
        Err(PdfError::NoRecipients)
    ));
}

/// Words on page 1 with their boxes in millimetres (xmin, ymin, xmax, ymax), from
/// `pdftotext -bbox`.
fn words_on_page_one(pdf: &[u8]) -> Vec<(String, [f64; 4])> {
    let html = poppler("pdftotext", pdf, &["-bbox", "-f", "1", "-l", "1"]);
    let pt_to_mm = 25.4 / 72.0;
    html.lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("<word ")?;
            let (attrs, rest) = line.split_once('>')?;
            let text = rest.strip_suffix("</word>")?.to_owned();
            let mut b = [0.0; 4];
            for (i, key) in ["xMin=\"", "yMin=\"", "xMax=\"", "yMax=\""]
                .iter()
                .enumerate()
            {
                let v = attrs.split(key).nth(1)?.split('"').next()?;
                b[i] = v.parse::<f64>().ok()? * pt_to_mm;
            }
            Some((text, b))
        })
        .collect()
}

#[test]
fn address_shows_in_the_envelope_window_and_the_code_does_not() {
    // The window of a DL/C5 window envelope: 20 mm from the left, 45 mm from the top,
    // 90 × 45 mm (see the crate docs).
    let (left, top, right, bottom) = (20.0, 45.0, 110.0, 90.0);
    let who = common::zhang();
    let words = words_on_page_one(&RENDERER.personalised(&common::content(), &who).unwrap());
    let find = |needle: &str| {
        words
            .iter()
            .find(|(w, _)| w.contains(needle))
            .unwrap_or_else(|| panic!("{needle} on page 1 in {words:?}"))
            .1
    };
    for needle in [
        "张晓燕",
        "408400",
        "重庆市南川区东城街道金佛大道38号2单元5-1",
    ] {
        let [x0, y0, x1, y1] = find(needle);
        assert!(
            x0 >= left && x1 <= right && y0 >= top && y1 <= bottom,
            "{needle} at {x0:.1}–{x1:.1} × {y0:.1}–{y1:.1} mm is inside the window"
        );
    }
    for needle in ["评议码：ABCD-EFGH-JK", "#code=ABCDEFGHJK"] {
        let [x0, ..] = find(needle);
        assert!(
            x0 > right,
            "{needle} starts at {x0:.1} mm, right of the window"
        );
    }
}

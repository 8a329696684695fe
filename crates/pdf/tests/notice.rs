//! What a reader of the circulation notice (通报) checks: who issued it and under which number,
//! which unit came where and why, what follows for them, and the date; long lists go on over
//! pages. Needs poppler-utils (`pdftotext`, `pdfinfo`).

mod common;
mod poppler;

use std::sync::LazyLock;

use minping_pdf::{NoticeEntry, PdfError, Renderer};
use poppler::{pages_and_size, pdftotext, raw_squeezed};

static RENDERER: LazyLock<Renderer> = LazyLock::new(Renderer::new);

/// The non-empty pages of `pdftotext` output (pages end in a form feed).
fn pages(text: &str) -> Vec<&str> {
    text.split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect()
}

#[test]
fn notice_shows_header_title_ranking_and_date() {
    let notice = common::notice();
    let pdf = RENDERER.notice(&notice).unwrap();
    let text = pdftotext(&pdf);
    let flat = raw_squeezed(&pdf);
    assert!(text.contains("南川评通〔2026〕3号"), "number in:\n{text}");
    assert!(
        flat.contains("南川区最难办事科室群众评议活动领导小组办公室"),
        "issuer"
    );
    assert!(
        flat.contains("关于2026年第三季度“最难办事科室”群众评议结果的通报"),
        "title in:\n{flat}"
    );
    assert!(flat.contains("各乡镇（街道）党（工）委、政府（办事处），区级各部门："));
    assert!(flat.contains("现将评议结果通报如下："));
    for heading in ["名次", "单位", "主要问题"] {
        assert!(text.contains(heading), "table heading {heading}");
    }
    // Each unit right after its rank, in ranking order, with its problems after it.
    let mut at = 0;
    for e in &notice.entries {
        let row = format!("{}{}{}", e.rank, e.agency, e.unit);
        let found = flat[at..]
            .find(&row)
            .unwrap_or_else(|| panic!("rank and unit `{row}` after byte {at} in:\n{flat}"));
        at += found + row.len();
        let problems = flat[at..].find(&e.main_problems);
        assert!(problems.is_some(), "problems of {}", e.unit);
    }
    assert!(
        flat.contains("1区市场监管局食品经营许可科注：经查实存在吃拿卡要问题，直接列第1名"),
        "the override note under its unit"
    );
    for p in &notice.closing {
        assert!(flat.contains(p.as_str()), "closing paragraph {p}");
    }
    assert!(text.contains("2026年10月15日"), "date");
    let signature = flat.rfind(&notice.signature).unwrap();
    let date = flat.rfind("2026年10月15日").unwrap();
    let last_closing = flat.rfind(notice.closing.last().unwrap()).unwrap();
    assert!(
        last_closing < signature && signature < date,
        "signature and date close the notice"
    );
    let (_, w, h) = pages_and_size(&pdf);
    assert!(
        (209.0..211.0).contains(&w) && (296.0..298.0).contains(&h),
        "A4, got {w}×{h} mm"
    );
}

#[test]
fn unit_names_are_printed_as_written_not_read_as_markup() {
    let mut notice = common::notice();
    let hostile = r#"#x$a$*科*[b]\"q"<l>@r_u_`c`//"#;
    notice.entries[2].agency = String::new();
    notice.entries[2].unit = hostile.into();
    notice.entries[3].main_problems = "#let x = 1 *推诿*".into();
    notice.title = "关于“#1”<通报>".into();
    let pdf = RENDERER.notice(&notice).unwrap();
    let text = pdftotext(&pdf);
    let flat = raw_squeezed(&pdf);
    assert!(flat.contains(&format!("3{hostile}")), "unit in:\n{flat}");
    assert!(text.contains("#let x = 1 *推诿*"), "problems in:\n{text}");
    assert!(text.contains("关于“#1”<通报>"), "title");
}

#[test]
fn twenty_five_units_run_over_pages_and_keep_the_table_heading() {
    let mut notice = common::notice();
    let base = notice.entries.clone();
    notice.entries = (0..25)
        .map(|i| NoticeEntry {
            rank: i + 1,
            ..base[i as usize % base.len()].clone()
        })
        .collect();
    let pdf = RENDERER.notice(&notice).unwrap();
    let (count, ..) = pages_and_size(&pdf);
    assert!(count > 1, "25 units need more than one page, got {count}");
    let text = pdftotext(&pdf);
    let pages = pages(&text);
    assert_eq!(pages.len(), count);
    let flat = raw_squeezed(&pdf);
    for e in &notice.entries {
        let row = format!("{}{}{}", e.rank, e.agency, e.unit);
        assert!(flat.contains(&row), "rank and unit `{row}`");
    }
    // The rows that continue on a later page sit under the repeated heading.
    let with_rows: Vec<_> = pages.iter().filter(|p| p.contains("婚姻登记处")).collect();
    assert!(with_rows.len() > 1, "the ranked list spans pages");
    for page in with_rows {
        assert!(page.contains("名次"), "heading on every page of the list");
    }
    for (i, page) in pages.iter().enumerate() {
        let squeezed: String = page.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            squeezed.contains(&format!("—{}—", i + 1)),
            "page {} is numbered",
            i + 1
        );
    }
    assert!(pages.last().unwrap().contains("2026年10月15日"));
}

#[test]
fn long_unit_names_wrap_inside_their_cell() {
    let mut notice = common::notice();
    let long =
        "区规划和自然资源局国土空间用途管制和耕地保护监督执法支队第三大队不动产登记协调服务窗口";
    notice.entries[0].agency = String::new();
    notice.entries[0].unit = long.into();
    let pdf = RENDERER.notice(&notice).unwrap();
    let text = pdftotext(&pdf);
    assert!(!text.contains(long), "a name this long wraps over lines");
    assert!(
        raw_squeezed(&pdf).contains(long),
        "but all of it is printed"
    );
}

#[test]
fn characters_the_font_lacks_are_refused_by_name() {
    let mut notice = common::notice();
    notice.entries[4].unit.push('𠀀');
    match RENDERER.notice(&notice) {
        Err(PdfError::UnsupportedChars { field, chars }) => {
            assert_eq!(field, "entries[4].unit");
            assert_eq!(chars, vec!['𠀀']);
        }
        other => panic!("expected UnsupportedChars, got {other:?}"),
    }
}

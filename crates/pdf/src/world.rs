//! The smallest typst `World` that can typeset a form: one in-memory main source, the fonts
//! embedded in this crate, optionally the base layer of the personalised form as a PDF, and
//! no file system or packages. QR codes travel inside the source as SVG strings.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The id of the one source file. File ids are interned for the life of the process (and
/// limited to 65,535), so every compilation reuses this single id instead of minting new ones.
static MAIN: LazyLock<FileId> = LazyLock::new(|| {
    let path = VirtualPath::new("/form.typ").expect("a valid virtual path");
    RootedPath::new(VirtualRoot::Project, path).intern()
});

/// The base layer of the personalised form (see form.typ), which personal layers draw as
/// their pages' background.
static BASE_PDF: LazyLock<FileId> = LazyLock::new(|| {
    let path = VirtualPath::new("/base.pdf").expect("a valid virtual path");
    RootedPath::new(VirtualRoot::Project, path).intern()
});

/// What every compilation shares: the standard library and the parsed fonts.
pub(crate) struct Assets {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl Assets {
    pub(crate) fn new(font_files: &[&'static [u8]]) -> Self {
        let fonts: Vec<Font> = font_files
            .iter()
            .flat_map(|data| Font::iter(Bytes::new(*data)))
            .collect();
        assert!(!fonts.is_empty(), "the embedded font must parse");
        Self {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    }

    pub(crate) fn fonts(&self) -> &[Font] {
        &self.fonts
    }
}

/// One compilation: the shared assets plus the generated main source (and, for personal
/// layers, the base layer's PDF).
pub(crate) struct FormWorld<'a> {
    assets: &'a Assets,
    main: Source,
    base_pdf: Option<Bytes>,
}

impl<'a> FormWorld<'a> {
    pub(crate) fn new(assets: &'a Assets, text: String) -> Self {
        Self {
            assets,
            main: Source::new(*MAIN, text),
            base_pdf: None,
        }
    }

    /// Serves `pdf` as `/base.pdf`.
    pub(crate) fn with_base_pdf(mut self, pdf: Bytes) -> Self {
        self.base_pdf = Some(pdf);
        self
    }
}

impl World for FormWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.assets.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.assets.book
    }

    fn main(&self) -> FileId {
        *MAIN
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *MAIN {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *MAIN {
            Ok(Bytes::from_string(self.main.clone()))
        } else if id == *BASE_PDF
            && let Some(pdf) = &self.base_pdf
        {
            Ok(pdf.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.assets.fonts.get(index).cloned()
    }

    fn today(&self, offset: Option<Duration>) -> Option<Datetime> {
        // The forms print no date of their own, but `datetime.today()` should still work.
        // Without an offset this answers in UTC: the process has no time-zone database.
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
        let hours = offset.map_or(0, |d| (d.seconds() / 3600.0).round() as i64);
        let (y, m, d) = civil_from_days((secs + hours * 3600).div_euclid(86_400));
        Datetime::from_ymd(y, m, d)
    }
}

/// Converts days since 1970-01-01 into a proleptic Gregorian (year, month, day)
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m as u8, d as u8)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}

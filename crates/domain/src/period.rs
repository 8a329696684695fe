//! The period a round evaluates (评议期间): whole days from a first to a last, labelled by
//! what they are. Usually a calendar quarter (`2020Q3`), but the article's district held 16
//! rounds in six and a half years, so a round may cover a half-year (`2020H1`), a year
//! (`2020`), a month (`2020-03`) or any run of days (`2020-01-15..2020-05-31`), and a
//! quarter may be skipped. Every date arithmetic on quarters lives here.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A run of whole days, first and last included, within the years 2000 to 2999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

/// Why a text or two dates are not a period.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "`{0}` is not a period: write a quarter (2020Q3), a half-year (2020H1), a year (2020), a month (2020-03) or two days (2020-01-15..2020-05-31)"
)]
pub struct PeriodError(pub String);

impl Period {
    /// The days from `start` to `end`, both included.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, PeriodError> {
        let years = 2000..=2999;
        if start > end || !years.contains(&start.year()) || !years.contains(&end.year()) {
            return Err(PeriodError(format!("{start}..{end}")));
        }
        Ok(Self { start, end })
    }

    /// A calendar quarter, 1 to 4.
    pub fn quarter(year: i32, quarter: u32) -> Result<Self, PeriodError> {
        (1..=4)
            .contains(&quarter)
            .then(|| Self::months(year, quarter * 3 - 2, 3))
            .flatten()
            .ok_or_else(|| PeriodError(format!("{year}Q{quarter}")))
    }

    /// `count` months from the first day of `month` (1–12).
    fn months(year: i32, month: u32, count: u32) -> Option<Self> {
        let start = NaiveDate::from_ymd_opt(year, month, 1)?;
        let end = start.checked_add_months(Months::new(count))?.pred_opt()?;
        Self::new(start, end).ok()
    }

    /// The calendar quarter that holds `day`.
    pub fn containing(day: NaiveDate) -> Self {
        Self::quarter(day.year(), day.month0() / 3 + 1).expect("a day lies in a quarter")
    }

    /// The calendar quarter after the one holding this period's last day.
    pub fn next_quarter(self) -> Self {
        Self::containing(
            Self::containing(self.end)
                .end
                .succ_opt()
                .expect("a day follows"),
        )
    }

    /// The first day.
    pub fn start(self) -> NaiveDate {
        self.start
    }

    /// The last day.
    pub fn end(self) -> NaiveDate {
        self.end
    }

    /// The year of the first day: the year a round's results count in.
    pub fn year(self) -> i32 {
        self.start.year()
    }

    /// Whether the two periods share a day.
    pub fn overlaps(self, other: Period) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether the period holds `day`.
    pub fn contains(self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    /// What the period is, for its label and its Chinese name.
    fn shape(self) -> Shape {
        let (y, m) = (self.start.year(), self.start.month());
        let whole = |count: u32| Self::months(y, m, count) == Some(self);
        if self.start.day() != 1 {
            Shape::Days
        } else if m == 1 && whole(12) {
            Shape::Year(y)
        } else if (m == 1 || m == 7) && whole(6) {
            Shape::Half(y, m.div_ceil(6))
        } else if m % 3 == 1 && whole(3) {
            Shape::Quarter(y, m.div_ceil(3))
        } else if whole(1) {
            Shape::Month(y, m)
        } else {
            Shape::Days
        }
    }

    /// How the period reads in Chinese: 2020年第3季度, 2020年上半年, 2020年, 2020年3月,
    /// 2020年1月15日至5月31日.
    pub fn display_zh(self) -> String {
        match self.shape() {
            Shape::Quarter(y, q) => format!("{y}年第{q}季度"),
            Shape::Half(y, 1) => format!("{y}年上半年"),
            Shape::Half(y, _) => format!("{y}年下半年"),
            Shape::Year(y) => format!("{y}年"),
            Shape::Month(y, m) => format!("{y}年{m}月"),
            Shape::Days => {
                let (s, e) = (self.start, self.end);
                let first = format!("{}年{}月{}日", s.year(), s.month(), s.day());
                if s.year() == e.year() {
                    format!("{first}至{}月{}日", e.month(), e.day())
                } else {
                    format!("{first}至{}年{}月{}日", e.year(), e.month(), e.day())
                }
            }
        }
    }
}

/// A period's kind, as its label writes it.
enum Shape {
    Quarter(i32, u32),
    Half(i32, u32),
    Year(i32),
    Month(i32, u32),
    Days,
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shape() {
            Shape::Quarter(y, q) => write!(f, "{y}Q{q}"),
            Shape::Half(y, h) => write!(f, "{y}H{h}"),
            Shape::Year(y) => write!(f, "{y}"),
            Shape::Month(y, m) => write!(f, "{y}-{m:02}"),
            Shape::Days => write!(f, "{}..{}", self.start, self.end),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PeriodError(s.to_string());
        let t = s.trim();
        // A number of at most `max_len` ASCII digits.
        let number = |digits: &str, max_len: usize| -> Option<u32> {
            (!digits.is_empty()
                && digits.len() <= max_len
                && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse().ok())
            .flatten()
        };
        let year = |digits: &str| (digits.len() == 4).then(|| number(digits, 4)).flatten();
        let period = if let Some((from, to)) = t.split_once("..") {
            let day = |d: &str| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok();
            match (day(from), day(to)) {
                (Some(from), Some(to)) => Period::new(from, to).ok(),
                _ => None,
            }
        } else if let Some((y, q)) = t.split_once(['Q', 'q']) {
            match (year(y), number(q, 1)) {
                (Some(y), Some(q)) => Period::quarter(y as i32, q).ok(),
                _ => None,
            }
        } else if let Some((y, h)) = t.split_once(['H', 'h']) {
            match (year(y), number(h, 1)) {
                (Some(y), Some(h @ 1..=2)) => Self::months(y as i32, h * 6 - 5, 6),
                _ => None,
            }
        } else if let Some((y, m)) = t.split_once('-') {
            match (year(y), number(m, 2)) {
                (Some(y), Some(m @ 1..=12)) => Self::months(y as i32, m, 1),
                _ => None,
            }
        } else {
            year(t).and_then(|y| Self::months(y as i32, 1, 12))
        };
        period.ok_or_else(bad)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_quarter_is_labelled_year_q_quarter_and_runs_three_calendar_months() {
        let q = p("2020Q3");
        assert_eq!((q.start(), q.end()), (day(2020, 7, 1), day(2020, 9, 30)));
        assert_eq!(q.to_string(), "2020Q3");
        assert_eq!(q.display_zh(), "2020年第3季度");
        assert_eq!(p("2020q4").to_string(), "2020Q4");
        assert_eq!(p("2020Q1").end(), day(2020, 3, 31));
        assert_eq!(Period::containing(day(2024, 2, 29)), p("2024Q1"));
    }

    #[test]
    fn halves_years_months_and_runs_of_days_are_periods_too() {
        for (label, start, end, zh) in [
            ("2015H1", day(2015, 1, 1), day(2015, 6, 30), "2015年上半年"),
            ("2015H2", day(2015, 7, 1), day(2015, 12, 31), "2015年下半年"),
            ("2016", day(2016, 1, 1), day(2016, 12, 31), "2016年"),
            ("2016-02", day(2016, 2, 1), day(2016, 2, 29), "2016年2月"),
            (
                "2016-01-15..2016-05-31",
                day(2016, 1, 15),
                day(2016, 5, 31),
                "2016年1月15日至5月31日",
            ),
            (
                "2016-11-01..2017-02-28",
                day(2016, 11, 1),
                day(2017, 2, 28),
                "2016年11月1日至2017年2月28日",
            ),
        ] {
            let period = p(label);
            assert_eq!((period.start(), period.end()), (start, end), "{label}");
            assert_eq!(period.to_string(), label);
            assert_eq!(period.display_zh(), zh);
            assert_eq!(Period::new(start, end).unwrap(), period);
        }
        // Two quarters written as days read as what they are.
        assert_eq!(p("2016-01-01..2016-06-30").to_string(), "2016H1");
        assert_eq!(p("2016-3").to_string(), "2016-03");
    }

    #[test]
    fn malformed_periods_are_refused() {
        for bad in [
            "2020Q5",
            "2020Q0",
            "20Q1",
            "2020-3-1",
            "",
            "2020Q",
            "1999Q1",
            "2020Q12",
            "2020H3",
            "2020H0",
            "2020-13",
            "2020-00",
            "2020-003",
            "20200",
            "2020-05-31..2020-01-01",
            "x..y",
            "1999-12-01..2000-01-31",
            "２０２０Q1",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert!(
            "2020Q5"
                .parse::<Period>()
                .unwrap_err()
                .to_string()
                .contains("2020Q3")
        );
    }

    proptest::proptest! {
        /// Whatever is typed as a label is refused or read, never a panic; what is read
        /// prints back to a label that reads as the same period.
        #[test]
        fn any_label_is_read_or_refused_and_what_is_read_prints_back(
            label in "[0-9QqHh.\\- ]{0,24}"
        ) {
            if let Ok(period) = label.parse::<Period>() {
                proptest::prop_assert_eq!(period.to_string().parse::<Period>(), Ok(period));
            }
        }
    }

    #[test]
    fn the_quarter_after_q4_is_next_years_q1_and_periods_order_by_their_days() {
        assert_eq!(p("2020Q4").next_quarter(), p("2021Q1"));
        assert_eq!(p("2020H1").next_quarter(), p("2020Q3"));
        assert!(p("2020Q4") < p("2020Q4").next_quarter());
        assert!(p("2020H1") < p("2020Q3"));
    }

    #[test]
    fn periods_overlap_when_they_share_a_day() {
        assert!(p("2020H1").overlaps(p("2020Q2")));
        assert!(p("2020Q1").overlaps(p("2020-03-31..2020-04-10")));
        assert!(!p("2020Q1").overlaps(p("2020Q2")));
        assert!(p("2020Q2").contains(day(2020, 6, 30)));
        assert!(!p("2020Q2").contains(day(2020, 7, 1)));
    }

    proptest! {
        #[test]
        fn a_period_prints_as_a_label_that_reads_back_as_itself(
            start in 0i64..300_000,
            len in 0i64..800,
        ) {
            let first = day(2000, 1, 1) + chrono::Duration::days(start);
            let last = first + chrono::Duration::days(len);
            if let Ok(period) = Period::new(first, last) {
                prop_assert_eq!(period.to_string().parse::<Period>(), Ok(period));
                let json = serde_json::to_string(&period).unwrap();
                prop_assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), period);
            }
        }
    }
}

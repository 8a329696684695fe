//! Reports (举报): an allegation of misconduct — 吃拿卡要 and the like — against a unit and
//! optionally named staff. Investigators move a report through
//! `received → investigating → substantiated | unsubstantiated`; a report substantiated
//! within a round's window puts the unit at rank 1 of that round.

use crate::UnitId;
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
        }
    }

    /// The field concerned.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::UnknownUnit(_) => "unit_id",
            ReportError::DescriptionTooShort | ReportError::DescriptionTooLong => "description",
            ReportError::FieldTooLong(f) => f,
            ReportError::FutureDate => "occurred_on",
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

/// The days whose substantiated reports count for a round: from the first day of its
/// quarter to the day the round is finalized, both included (the default window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// Substantiated reports per unit within a window: the input of the ranking's override.
pub fn substantiated_in(
    window: Window,
    reports: &[(UnitId, ReportState, NaiveDate)],
) -> BTreeMap<UnitId, u32> {
    let mut counts = BTreeMap::new();
    for (unit, state, concluded_on) in reports {
        if *state == ReportState::Substantiated && (window.from..=window.to).contains(concluded_on)
        {
            *counts.entry(*unit).or_insert(0) += 1;
        }
    }
    counts
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

    #[test]
    fn only_substantiated_reports_within_the_window_count() {
        let w = Window {
            from: day(10, 1),
            to: day(12, 31),
        };
        let reports = [
            (UnitId(1), ReportState::Substantiated, day(10, 5)),
            (UnitId(1), ReportState::Substantiated, day(12, 31)),
            (UnitId(2), ReportState::Substantiated, day(9, 30)),
            (UnitId(3), ReportState::Unsubstantiated, day(11, 1)),
            (UnitId(4), ReportState::Investigating, day(11, 1)),
        ];
        assert_eq!(
            substantiated_in(w, &reports),
            BTreeMap::from([(UnitId(1), 2)])
        );
    }
}

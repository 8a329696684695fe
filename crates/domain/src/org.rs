//! The organisation being evaluated: agencies (局/部门), their units (科室), people and
//! their dated posts.

use crate::{AgencyId, PersonId, UnitId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An agency (局/部门) that holds units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Its id.
    pub id: AgencyId,
    /// Its name, e.g. 南川区民政局.
    pub name: String,
}

/// An evaluated unit (科室). A retired unit keeps its history but takes no nominations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Its id.
    pub id: UnitId,
    /// The agency it belongs to.
    pub agency_id: AgencyId,
    /// The agency's name, for display.
    pub agency: String,
    /// Its name, e.g. 殡仪馆.
    pub name: String,
    /// Its kind, 科室 by default.
    pub kind: String,
    /// False once retired or merged.
    pub active: bool,
    /// The day it was retired, while it is.
    pub retired_on: Option<chrono::NaiveDate>,
}

/// A person who holds or held a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Their id.
    pub id: PersonId,
    /// Their name.
    pub name: String,
}

/// The two posts accountability attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostRole {
    /// 科室负责人: the head of the unit.
    Head,
    /// 分管领导: the leader who supervises the unit.
    SupervisingLeader,
}

impl PostRole {
    /// The role's code as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PostRole::Head => "head",
            PostRole::SupervisingLeader => "supervising_leader",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "head" => Some(PostRole::Head),
            "supervising_leader" => Some(PostRole::SupervisingLeader),
            _ => None,
        }
    }
}

/// A person's post at a unit from `start` until `end` (exclusive; open when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Its id.
    pub id: i64,
    /// Who holds it.
    pub person_id: PersonId,
    /// Their name, for display.
    pub person: String,
    /// At which unit.
    pub unit_id: UnitId,
    /// Which post.
    pub role: PostRole,
    /// First day held.
    pub start: NaiveDate,
    /// First day no longer held.
    pub end: Option<NaiveDate>,
}

impl Post {
    /// Whether the post is held on a date.
    pub fn held_on(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date < end)
    }
}

/// The organisation as a round uses it, frozen when the round closes: its ranking names
/// these units and its sanctions fall on these posts, whatever is edited later.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgSnapshot {
    /// Every unit, retired ones too, as they stood.
    pub units: Vec<Unit>,
    /// Every post, current and past, as recorded.
    pub posts: Vec<Post>,
}

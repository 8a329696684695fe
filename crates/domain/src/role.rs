//! Roles of the people who sign in. The public needs no account.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// What a signed-in user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// 作风办/督查室: runs the evaluation.
    Organizer,
    /// 录入员: keys in paper forms.
    Clerk,
    /// 纪检: handles reports.
    Investigator,
    /// 暗访组: unannounced inspections.
    Inspector,
    /// 科室: an evaluated unit, bound to one unit.
    Unit,
    /// 领导: reads dashboards.
    Leader,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Organizer,
        Role::Clerk,
        Role::Investigator,
        Role::Inspector,
        Role::Unit,
        Role::Leader,
    ];

    /// The role's code.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Organizer => "organizer",
            Role::Clerk => "clerk",
            Role::Investigator => "investigator",
            Role::Inspector => "inspector",
            Role::Unit => "unit",
            Role::Leader => "leader",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role `{s}`: use organizer, clerk, investigator, inspector, unit or leader")
            })
    }
}

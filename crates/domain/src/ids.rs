//! Typed identifiers, so a unit id is never passed where a round id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An agency (局/部门).
    AgencyId
);
id_type!(
    /// An evaluated unit (科室).
    UnitId
);
id_type!(
    /// A person who can hold a post.
    PersonId
);
id_type!(
    /// A quarterly round (评议轮次).
    RoundId
);
id_type!(
    /// A user account.
    UserId
);

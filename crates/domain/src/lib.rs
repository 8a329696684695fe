//! The pure domain of minping (民评): what a unit, a round, a ballot and a ranking are,
//! and the rules that govern them. Nothing here does IO; storage and the web call in.

pub mod audit;
pub mod ballot;
pub mod code;
pub mod ids;
pub mod indicator;
pub mod integrity;
pub mod org;
pub mod panel;
pub mod paper;
pub mod period;
pub mod ranking;
pub mod receipt;
pub mod report;
pub mod role;
pub mod round;
pub mod rules;
pub mod settings;
pub mod statistics;

pub use ballot::{Ballot, BallotDraft, BallotError, Channel, Nomination, NominationDraft};
pub use ids::{AgencyId, PersonId, RoundId, UnitId, UserId};
pub use indicator::{Indicator, IndicatorMask, IndicatorSet};
pub use org::{Agency, OrgSnapshot, Person, Post, PostRole, Unit};
pub use period::{Period, PeriodError};
pub use ranking::{Method, Override, RankedUnit, Ranking, Tally};
pub use receipt::Receipt;
pub use role::Role;
pub use round::{Round, RoundState, Transition};
pub use settings::Settings;

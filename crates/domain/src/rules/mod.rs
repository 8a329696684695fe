//! Accountability (问责): the rules file, the engine that turns a finalized round and its
//! history into proposed sanctions, and the promotion calendar. Pure: no IO.
//!
//! - [`config`]: [`Rules`], the deployment's rules as data (TOML), versioned and stored as
//!   JSON with each finalized round.
//! - [`engine`]: [`propose`], from a round, the published rounds before it and the posts
//!   to [`ProposedSanction`]s, each naming its rule and the rounds that triggered it.
//! - [`promotion`]: [`may_promote`], "may person P be promoted on date D?" with reasons.

pub mod config;
pub mod engine;
pub mod promotion;

pub use config::{
    DeductionRule, PublicationRule, RULES_VERSION, RemovalRule, Rules, RulesError, ThresholdRule,
    TopNRule,
};
pub use engine::{
    EngineInput, PastRound, ProposedSanction, RoundEntry, RoundToFinalize, SanctionKind,
    freeze_until, propose, rule_id,
};
pub use promotion::{PromotionAnswer, Reason, RecordedSanction, SanctionState, may_promote};

//! What sanctions need from storage: the engine's proposals for a finalized round and who
//! confirmed or rejected each, when and why.

use crate::{Actor, Result};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    PersonId, RoundId,
    rules::{ProposedSanction, SanctionState},
};
use serde::Serialize;

/// A stored sanction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sanction {
    /// Id.
    pub id: i64,
    /// The round whose finalization proposed it.
    pub round_id: RoundId,
    /// The proposal.
    pub proposal: ProposedSanction,
    /// Proposed, confirmed or rejected.
    pub state: SanctionState,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why.
    pub decision_reason: Option<String>,
}

/// What sanctions need from a database.
#[async_trait]
pub trait SanctionStore: Send + Sync {
    /// Stores a finalized round's proposals and the rules (JSON) that produced them.
    async fn record_proposals(
        &self,
        round: RoundId,
        rules: &str,
        proposals: &[ProposedSanction],
    ) -> Result<()>;
    /// A round's sanctions.
    async fn sanctions(&self, round: RoundId) -> Result<Vec<Sanction>>;
    /// Every sanction, oldest round first.
    async fn all_sanctions(&self) -> Result<Vec<Sanction>>;
    /// Moves a round's sanctions to take effect on its publication day (freezes keep their
    /// length); decisions already taken stay.
    async fn start_sanctions(&self, round: RoundId, on: NaiveDate) -> Result<()>;
    /// Every sanction of a person.
    async fn sanctions_of(&self, person: PersonId) -> Result<Vec<Sanction>>;
    /// Confirms or rejects a proposed sanction, recording who, when and why.
    async fn decide_sanction(
        &self,
        id: i64,
        confirm: bool,
        actor: &Actor,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Sanction>;
}

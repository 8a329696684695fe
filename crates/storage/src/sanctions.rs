//! What sanctions need from storage: the engine's proposals for a finalized round and who
//! confirmed or rejected each, when and why; and its SQL.

use crate::{
    Actor, Result, StorageError, Store,
    dialect::{Dialect, RowsAffected},
    sql::corrupt,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    PersonId, RoundId,
    rules::{ProposedSanction, SanctionState},
};
use serde::Serialize;
use sqlx::Row;

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

fn sanction_from<DB: Dialect>(r: &DB::Row) -> Result<Sanction> {
    let proposal: String = r.try_get("proposal")?;
    let state: String = r.try_get("state")?;
    Ok(Sanction {
        id: r.try_get("id")?,
        round_id: RoundId(r.try_get("round_id")?),
        proposal: serde_json::from_str(&proposal).map_err(corrupt)?,
        state: serde_json::from_value(serde_json::Value::String(state)).map_err(corrupt)?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        decision_reason: r.try_get("decision_reason")?,
    })
}

const SELECT: &str =
    "SELECT id, round_id, proposal, state, decided_by, decided_at, decision_reason FROM sanctions";

#[async_trait]
impl<DB: Dialect> SanctionStore for Store<DB> {
    async fn record_proposals(
        &self,
        round: RoundId,
        rules: &str,
        proposals: &[ProposedSanction],
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        sqlx::query("UPDATE rounds SET rules = $1 WHERE id = $2")
            .bind(rules)
            .bind(round.0)
            .execute(&mut *tx)
            .await?;
        for p in proposals {
            sqlx::query(
                "INSERT INTO sanctions (round_id, person_id, unit_id, kind, rule, proposal, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'proposed')",
            )
            .bind(round.0)
            .bind(p.person_id.0)
            .bind(p.unit_id.0)
            .bind(p.kind.as_str())
            .bind(&p.rule)
            .bind(serde_json::to_string(p).map_err(corrupt)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn sanctions(&self, round: RoundId) -> Result<Vec<Sanction>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE round_id = $1 ORDER BY id"
        )))
        .bind(round.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sanction_from::<DB>).collect()
    }

    async fn all_sanctions(&self) -> Result<Vec<Sanction>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY round_id, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sanction_from::<DB>).collect()
    }

    async fn start_sanctions(&self, round: RoundId, on: NaiveDate) -> Result<()> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let rows =
            sqlx::query("SELECT id, proposal FROM sanctions WHERE round_id = $1 ORDER BY id")
                .bind(round.0)
                .fetch_all(&mut *tx)
                .await?;
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let proposal: String = r.try_get("proposal")?;
            let proposal: ProposedSanction = serde_json::from_str(&proposal).map_err(corrupt)?;
            sqlx::query("UPDATE sanctions SET proposal = $1 WHERE id = $2")
                .bind(serde_json::to_string(&proposal.starting_on(on)).map_err(corrupt)?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn sanctions_of(&self, person: PersonId) -> Result<Vec<Sanction>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE person_id = $1 ORDER BY id"
        )))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sanction_from::<DB>).collect()
    }

    async fn decide_sanction(
        &self,
        id: i64,
        confirm: bool,
        actor: &Actor,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Sanction> {
        let state = if confirm {
            SanctionState::Confirmed
        } else {
            SanctionState::Rejected
        };
        let done = sqlx::query(
            "UPDATE sanctions SET state = $1, decided_by = $2, decided_at = $3, decision_reason = $4 \
             WHERE id = $5 AND state = 'proposed'",
        )
        .bind(state.as_str())
        .bind(&actor.name)
        .bind(at)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM sanctions WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            return Err(match exists {
                Some(_) => StorageError::Conflict("this sanction has already been decided".into()),
                None => StorageError::NotFound,
            });
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        sanction_from::<DB>(&row)
    }
}

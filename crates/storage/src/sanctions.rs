//! What sanctions need from storage: the engine's proposals for a finalized round and who
//! confirmed or rejected each, when and why; and its SQL.

use crate::{
    Actor, Result, StorageError, Store,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::corrupt,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    PersonId, RoundId, RoundState,
    rules::{PromotionAnswer, ProposedSanction, RecordedSanction, SanctionKind, SanctionState},
};
use serde::Serialize;
use serde_json::json;
use sqlx::{Row, Transaction};

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
    /// The decision document a confirmation rests on (e.g. the 区委常委会 meeting).
    pub decision_ref: Option<String>,
}

impl From<Sanction> for RecordedSanction {
    /// What the rules and the promotion calendar read of a stored sanction.
    fn from(s: Sanction) -> Self {
        RecordedSanction {
            sanction: s.proposal,
            state: s.state,
        }
    }
}

/// A person up for promotion (拟提拔), checked against the promotion calendar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromotionCheck {
    /// Id.
    pub id: i64,
    /// Who was checked.
    pub person_id: PersonId,
    /// The day the promotion would take effect.
    pub on: NaiveDate,
    /// The answer, with every reason it is refused.
    pub answer: PromotionAnswer,
    /// What the promotion is, as the asker wrote it.
    pub note: String,
    /// Who asked.
    pub checked_by: String,
    /// When.
    pub checked_at: DateTime<Utc>,
}

/// What sanctions need from a database. A round's proposals are stored when it is
/// finalized, and start when it is published ([`crate::Storage::finalize_round`],
/// [`crate::Storage::publish_round`]).
#[async_trait]
pub trait SanctionStore: Send + Sync {
    /// A round's sanctions.
    async fn sanctions(&self, round: RoundId) -> Result<Vec<Sanction>>;
    /// Every sanction, oldest round first.
    async fn all_sanctions(&self) -> Result<Vec<Sanction>>;
    /// Every sanction of a person.
    async fn sanctions_of(&self, person: PersonId) -> Result<Vec<Sanction>>;
    /// Confirms or rejects a proposed sanction, recording who, when and why, in one
    /// transaction with what it does: a removal (免职) confirmed once its round is published
    /// ends the person's post on the later of its first day and `today` (before
    /// publication, publishing ends it).
    #[allow(clippy::too_many_arguments)]
    async fn decide_sanction(
        &self,
        id: i64,
        confirm: bool,
        actor: &Actor,
        reason: &str,
        decision_ref: Option<&str>,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Sanction>;
    /// Records a promotion check and its answer; returns its id.
    async fn record_promotion_check(
        &self,
        person: PersonId,
        on: NaiveDate,
        answer: &PromotionAnswer,
        note: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    /// Every promotion check, oldest first.
    async fn promotion_checks(&self) -> Result<Vec<PromotionCheck>>;
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
        decision_ref: r.try_get("decision_ref")?,
    })
}

const SELECT: &str = "SELECT id, round_id, proposal, state, decided_by, decided_at, decision_reason, decision_ref FROM sanctions";

/// Stores a finalized round's proposals, in the finalization's transaction.
pub(crate) async fn insert_proposals<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    round: RoundId,
    proposals: &[ProposedSanction],
) -> Result<()> {
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
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Moves a round's sanctions to take effect on its publication day `on` (freezes keep their
/// length; decisions taken stay), and ends the posts of removals already confirmed, in the
/// publication's transaction.
pub(crate) async fn start<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    round: RoundId,
    on: NaiveDate,
) -> Result<()> {
    let rows =
        sqlx::query("SELECT id, proposal, state FROM sanctions WHERE round_id = $1 ORDER BY id")
            .bind(round.0)
            .fetch_all(&mut **tx)
            .await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let proposal: String = r.try_get("proposal")?;
        let state: String = r.try_get("state")?;
        let proposal = serde_json::from_str::<ProposedSanction>(&proposal)
            .map_err(corrupt)?
            .starting_on(on);
        sqlx::query("UPDATE sanctions SET proposal = $1 WHERE id = $2")
            .bind(serde_json::to_string(&proposal).map_err(corrupt)?)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        if state == SanctionState::Confirmed.as_str() {
            end_post(tx, &proposal, on).await?;
        }
    }
    Ok(())
}

/// A confirmed removal ends the person's post on `on`: the head's post at the unit, or every
/// supervising post of the leader (免去分管领导职务). A post begun that day or ended
/// before is left as it is.
async fn end_post<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    sanction: &ProposedSanction,
    on: NaiveDate,
) -> Result<()> {
    let (sql, unit) = match sanction.kind {
        SanctionKind::HeadRemoved => (
            "UPDATE posts SET end_on = $1 WHERE person_id = $2 AND unit_id = $3 AND role = 'head' \
             AND start_on < $1 AND (end_on IS NULL OR end_on > $1)",
            Some(sanction.unit_id.0),
        ),
        SanctionKind::LeaderRemoved => (
            "UPDATE posts SET end_on = $1 WHERE person_id = $2 AND role = 'supervising_leader' \
             AND start_on < $1 AND (end_on IS NULL OR end_on > $1)",
            None,
        ),
        _ => return Ok(()),
    };
    let mut q = sqlx::query(sql).bind(on).bind(sanction.person_id.0);
    if let Some(unit) = unit {
        q = q.bind(unit);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

fn check_from<DB: Dialect>(r: &DB::Row) -> Result<PromotionCheck> {
    let answer: String = r.try_get("answer")?;
    Ok(PromotionCheck {
        id: r.try_get("id")?,
        person_id: PersonId(r.try_get("person_id")?),
        on: r.try_get("on_day")?,
        answer: serde_json::from_str(&answer).map_err(corrupt)?,
        note: r.try_get("note")?,
        checked_by: r.try_get("checked_by")?,
        checked_at: r.try_get("checked_at")?,
    })
}

#[async_trait]
impl<DB: Dialect> SanctionStore for Store<DB> {
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

    async fn sanctions_of(&self, person: PersonId) -> Result<Vec<Sanction>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE person_id = $1 ORDER BY id"
        )))
        .bind(person.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sanction_from::<DB>).collect()
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide_sanction(
        &self,
        id: i64,
        confirm: bool,
        actor: &Actor,
        reason: &str,
        decision_ref: Option<&str>,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Sanction> {
        let state = if confirm {
            SanctionState::Confirmed
        } else {
            SanctionState::Rejected
        };
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        // The round first, locked against publication until this decision commits: a removal
        // confirmed while its round is being published ends the post here or in publication,
        // never in neither. (Publication also locks the round first, so neither waits on the
        // other in a circle.)
        let round_state: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT state FROM rounds WHERE id = (SELECT round_id FROM sanctions WHERE id = $1){}",
            DB::SHARE_LOCK
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(round_state) = round_state else {
            return Err(StorageError::NotFound);
        };
        let done = sqlx::query(
            "UPDATE sanctions SET state = $1, decided_by = $2, decided_at = $3, decision_reason = $4, \
             decision_ref = $6 WHERE id = $5 AND state = 'proposed'",
        )
        .bind(state.as_str())
        .bind(&actor.name)
        .bind(at)
        .bind(reason)
        .bind(id)
        .bind(decision_ref)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::Conflict(
                "this sanction has already been decided".into(),
            ));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let sanction = sanction_from::<DB>(&row)?;
        if confirm && round_state == RoundState::Published.as_str() {
            end_post(
                &mut tx,
                &sanction.proposal,
                sanction.proposal.from.max(today),
            )
            .await?;
        }
        let change = Change::new(
            if confirm {
                "sanction.confirm"
            } else {
                "sanction.reject"
            },
            format!("sanction:{id}"),
            json!({
                "round_id": sanction.round_id.0,
                "person_id": sanction.proposal.person_id,
                "unit_id": sanction.proposal.unit_id,
                "kind": sanction.proposal.kind,
                "reason": reason,
                "decision_ref": decision_ref,
            }),
        );
        record::<DB>(&mut tx, actor, at, &change).await?;
        tx.commit().await?;
        Ok(sanction)
    }

    async fn record_promotion_check(
        &self,
        person: PersonId,
        on: NaiveDate,
        answer: &PromotionAnswer,
        note: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO promotion_checks (person_id, on_day, eligible, answer, note, checked_by, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(person.0)
        .bind(on)
        .bind(answer.eligible)
        .bind(serde_json::to_string(answer).map_err(corrupt)?)
        .bind(note)
        .bind(&actor.name)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::sql::conflict_or(e, "no such person"))?;
        let change = Change::new(
            "promotion.check",
            format!("person:{}", person.0),
            json!({ "on": on, "eligible": answer.eligible }),
        );
        record::<DB>(&mut tx, actor, at, &change).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn promotion_checks(&self) -> Result<Vec<PromotionCheck>> {
        let rows = sqlx::query(
            "SELECT id, person_id, on_day, answer, note, checked_by, checked_at \
             FROM promotion_checks ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(check_from::<DB>).collect()
    }
}

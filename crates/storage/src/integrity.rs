//! Integrity of the open channel: the signals intake keeps for stuffing detection, the
//! clusters a scan finds, the ballots it holds, and the organizer's decisions on them.
//!
//! A held ballot stays in `ballots` (quarantine, never deletion); [`crate::Storage::tallies`]
//! leaves out every ballot held or kept, so nothing else needs to know about holds.

use crate::{Actor, Result, dialect::Dialect, sql::corrupt, store::Store};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use minping_domain::{
    RoundId, UnitId,
    integrity::{Cluster, Finding, Observed, Population, signals::Signals},
};
use sqlx::{Pool, Row, Transaction};
use std::collections::HashMap;

/// A held ballot as the organizer's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBallot {
    /// Its receipt.
    pub receipt: String,
    /// The cluster holding it.
    pub cluster: String,
    /// `held` (awaiting review) or `kept` (the organizer confirmed the hold).
    pub state: String,
}

/// A cluster as stored, with where its ballots stand.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCluster {
    /// Its stable id.
    pub id: String,
    /// The unit it pushes.
    pub unit: UnitId,
    /// Why it was found.
    pub findings: Vec<Finding>,
    /// When the last scan found it.
    pub found_at: DateTime<Utc>,
    /// Ballots held and awaiting review.
    pub held: u64,
    /// Ballots whose hold the organizer confirmed.
    pub kept: u64,
    /// Ballots released and counted.
    pub released: u64,
}

impl StoredCluster {
    /// Its ballots left out of the count: awaiting review or kept out.
    pub fn not_counted(&self) -> u64 {
        self.held + self.kept
    }
}

/// An organizer's decision on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep its ballots out of the count.
    Keep,
    /// Count its ballots.
    Release,
}

impl Decision {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Release => "release",
        }
    }
}

/// A decision recorded on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    /// The cluster.
    pub cluster: String,
    /// `keep` or `release`.
    pub decision: String,
    /// How many ballots it covered.
    pub ballots: u64,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Where one ballot stands, by its receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptState {
    /// Its round.
    pub round_id: RoundId,
    /// Whether it is held (awaiting review or kept out).
    pub held: bool,
}

/// What the integrity of the open channel needs from a database.
#[async_trait]
pub trait IntegrityStore: Send + Sync {
    /// The open-channel ballots of a round that carry signals, with the units they name,
    /// and the whole round's counts (every channel, held or not) the scan compares with.
    async fn integrity_input(&self, round: RoundId) -> Result<(Vec<Observed>, Population)>;
    /// Records a scan's clusters in one transaction: unreviewed holds are replaced by the
    /// scan's; kept and released ballots stay as the organizer decided. Returns how many
    /// ballots are now held awaiting review.
    async fn record_scan(
        &self,
        round: RoundId,
        clusters: &[Cluster],
        at: DateTime<Utc>,
    ) -> Result<u64>;
    /// The round's clusters, largest first.
    async fn clusters(&self, round: RoundId) -> Result<Vec<StoredCluster>>;
    /// The round's held and kept ballots.
    async fn held_ballots(&self, round: RoundId) -> Result<Vec<HeldBallot>>;
    /// Decides on every held or kept ballot of a cluster, with a reason; returns how many
    /// ballots the decision covered (0 if the cluster holds none).
    async fn decide_cluster(
        &self,
        round: RoundId,
        cluster: &str,
        decision: Decision,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<u64>;
    /// Every decision taken on the round's clusters, oldest first.
    async fn integrity_decisions(&self, round: RoundId) -> Result<Vec<DecisionRecord>>;
    /// The tallies of the ballots a round holds (awaiting review or kept), which
    /// [`crate::Storage::tallies`] leaves out.
    async fn held_tallies(
        &self,
        round: RoundId,
        indicators: usize,
    ) -> Result<Vec<minping_domain::Tally>>;
    /// Where the ballot with this receipt stands, if there is one.
    async fn receipt_state(&self, receipt: &str) -> Result<Option<ReceiptState>>;
}

#[async_trait]
impl<DB: Dialect> IntegrityStore for Store<DB> {
    async fn integrity_input(&self, round: RoundId) -> Result<(Vec<Observed>, Population)> {
        integrity_input(&self.pool, round).await
    }

    async fn record_scan(
        &self,
        round: RoundId,
        clusters: &[Cluster],
        at: DateTime<Utc>,
    ) -> Result<u64> {
        record_scan(&self.pool, round, clusters, at).await
    }

    async fn clusters(&self, round: RoundId) -> Result<Vec<StoredCluster>> {
        clusters(&self.pool, round).await
    }

    async fn held_ballots(&self, round: RoundId) -> Result<Vec<HeldBallot>> {
        let rows = sqlx::query(
            "SELECT b.receipt, h.cluster_id, h.state FROM held_ballots h JOIN ballots b ON b.id = h.ballot_id \
             WHERE h.round_id = $1 AND h.state <> 'released' ORDER BY h.cluster_id, b.receipt",
        )
        .bind(round.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HeldBallot {
                    receipt: r.try_get("receipt")?,
                    cluster: r.try_get("cluster_id")?,
                    state: r.try_get("state")?,
                })
            })
            .collect()
    }

    async fn decide_cluster(
        &self,
        round: RoundId,
        cluster: &str,
        decision: Decision,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        lock_round(&mut tx, round).await?;
        let to = match decision {
            Decision::Keep => "kept",
            Decision::Release => "released",
        };
        let n = sqlx::query(
            "UPDATE held_ballots SET state = $1 WHERE round_id = $2 AND cluster_id = $3 AND state <> 'released'",
        )
        .bind(to)
        .bind(round.0)
        .bind(cluster)
        .execute(&mut *tx)
        .await?;
        let n = crate::dialect::RowsAffected::rows_affected(&n);
        if n > 0 {
            sqlx::query(
                "INSERT INTO integrity_decisions (round_id, cluster_id, decision, ballots, user_id, actor, reason, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(round.0)
            .bind(cluster)
            .bind(decision.as_str())
            .bind(n as i64)
            .bind(actor.user_id.map(|u| u.0))
            .bind(&actor.name)
            .bind(reason)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let change = crate::audit::Change::new(
                match decision {
                    Decision::Keep => "quarantine.keep",
                    Decision::Release => "quarantine.release",
                },
                format!("round:{round}"),
                serde_json::json!({ "cluster": cluster, "ballots": n, "reason": reason }),
            );
            crate::audit::record::<DB>(&mut tx, actor, at, &change).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn integrity_decisions(&self, round: RoundId) -> Result<Vec<DecisionRecord>> {
        let rows = sqlx::query(
            "SELECT cluster_id, decision, ballots, actor, reason, at FROM integrity_decisions \
             WHERE round_id = $1 ORDER BY id",
        )
        .bind(round.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DecisionRecord {
                    cluster: r.try_get("cluster_id")?,
                    decision: r.try_get("decision")?,
                    ballots: r.try_get::<i64, _>("ballots")? as u64,
                    actor: r.try_get("actor")?,
                    reason: r.try_get("reason")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn held_tallies(
        &self,
        round: RoundId,
        indicators: usize,
    ) -> Result<Vec<minping_domain::Tally>> {
        crate::ballots::tallies_where(
            &self.pool,
            round,
            indicators,
            &format!("ballot_id IN ({HELD_IDS})"),
        )
        .await
    }

    async fn receipt_state(&self, receipt: &str) -> Result<Option<ReceiptState>> {
        let row = sqlx::query(
            "SELECT b.round_id, h.state FROM ballots b LEFT JOIN held_ballots h ON h.ballot_id = b.id \
             WHERE b.receipt = $1",
        )
        .bind(receipt)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state: Option<String> = row.try_get("state")?;
        Ok(Some(ReceiptState {
            round_id: RoundId(row.try_get("round_id")?),
            held: matches!(state.as_deref(), Some("held" | "kept")),
        }))
    }
}

/// SQL: the ids of the round's ballots held out of the count (awaiting review or kept out),
/// with `$1` the round. The one definition every query leaving them out uses.
pub(crate) const HELD_IDS: &str =
    "SELECT ballot_id FROM held_ballots WHERE round_id = $1 AND state <> 'released'";

/// Takes the round's row for the transaction, so a scan, a decision and a finalization
/// never interleave, and checks under the lock that the ranking is not frozen yet (a
/// Conflict otherwise).
async fn lock_round<DB: Dialect>(tx: &mut Transaction<'_, DB>, round: RoundId) -> Result<()> {
    // An UPDATE that changes nothing takes the row lock on PostgreSQL; on SQLite the
    // transaction already holds the one write lock.
    sqlx::query("UPDATE rounds SET id = id WHERE id = $1")
        .bind(round.0)
        .execute(&mut **tx)
        .await?;
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM rounds WHERE id = $1")
        .bind(round.0)
        .fetch_optional(&mut **tx)
        .await?;
    match state.as_deref() {
        Some("open" | "closed") => Ok(()),
        Some(_) => Err(crate::StorageError::Conflict(
            "the round's ranking is frozen".into(),
        )),
        None => Err(crate::StorageError::NotFound),
    }
}

/// Writes the signals of a batch's accepted open-channel ballots (`ids` beside them).
pub(crate) async fn write_signals<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    rows: &[(i64, RoundId, Signals)],
) -> Result<()> {
    for chunk in crate::ballots::fixed_chunks(rows, 10) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO intake_signals (ballot_id, round_id, addr, net, agent, cookie, bucket, shape, content, comment) ",
        );
        q.push_values(chunk, |mut b, (id, round, s)| {
            b.push_bind(*id)
                .push_bind(round.0)
                .push_bind(s.addr)
                .push_bind(s.net)
                .push_bind(s.agent)
                .push_bind(s.cookie)
                .push_bind(s.bucket)
                .push_bind(s.shape)
                .push_bind(s.content)
                .push_bind(s.comment);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Deletes a round's signals: detection is over once the round is published.
pub(crate) async fn delete_signals<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    round: RoundId,
) -> Result<()> {
    sqlx::query("DELETE FROM intake_signals WHERE round_id = $1")
        .bind(round.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn integrity_input<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<(Vec<Observed>, Population)> {
    let rows = sqlx::query(
        "SELECT ballot_id, addr, net, agent, cookie, bucket, shape, content, comment \
         FROM intake_signals WHERE round_id = $1 ORDER BY ballot_id",
    )
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    let mut observed = Vec::with_capacity(rows.len());
    let mut at: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
    for r in &rows {
        let ballot: i64 = r.try_get("ballot_id")?;
        at.insert(ballot, observed.len());
        observed.push(Observed {
            ballot,
            signals: Signals {
                addr: r.try_get("addr")?,
                net: r.try_get("net")?,
                agent: r.try_get("agent")?,
                cookie: r.try_get("cookie")?,
                bucket: r.try_get("bucket")?,
                shape: r.try_get("shape")?,
                content: r.try_get("content")?,
                comment: r.try_get("comment")?,
            },
            units: Vec::new(),
        });
    }
    let mut population = Population {
        ballots: crate::ballots::ballot_count(pool, round).await?,
        naming: HashMap::new(),
    };
    let noms = sqlx::query("SELECT ballot_id, unit_id FROM nominations WHERE round_id = $1")
        .bind(round.0)
        .fetch_all(pool)
        .await?;
    for r in &noms {
        let ballot: i64 = r.try_get("ballot_id")?;
        let unit = UnitId(r.try_get("unit_id")?);
        *population.naming.entry(unit).or_default() += 1;
        if let Some(&i) = at.get(&ballot) {
            observed[i].units.push(unit);
        }
    }
    Ok((observed, population))
}

async fn record_scan<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    clusters: &[Cluster],
    at: DateTime<Utc>,
) -> Result<u64> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    lock_round(&mut tx, round).await?;
    sqlx::query("DELETE FROM held_ballots WHERE round_id = $1 AND state = 'held'")
        .bind(round.0)
        .execute(&mut *tx)
        .await?;
    for c in clusters {
        let findings = serde_json::to_string(&c.findings).map_err(|e| corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO integrity_clusters (round_id, id, unit_id, findings, found_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (round_id, id) DO UPDATE SET unit_id = excluded.unit_id, findings = excluded.findings, found_at = excluded.found_at",
        )
        .bind(round.0)
        .bind(&c.id)
        .bind(c.unit.0)
        .bind(findings)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let rows: Vec<(i64, &str)> = c.ballots.iter().map(|b| (*b, c.id.as_str())).collect();
        for chunk in crate::ballots::fixed_chunks(&rows, 4) {
            let mut q = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO held_ballots (ballot_id, round_id, cluster_id, state) ",
            );
            q.push_values(chunk, |mut b, (ballot, cluster)| {
                b.push_bind(*ballot)
                    .push_bind(round.0)
                    .push_bind(*cluster)
                    .push_bind("held");
            });
            q.push(" ON CONFLICT (ballot_id) DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
    }
    // Clusters that no longer hold anything and were never decided on are forgotten.
    sqlx::query(
        "DELETE FROM integrity_clusters WHERE round_id = $1 \
         AND id NOT IN (SELECT cluster_id FROM held_ballots WHERE round_id = $1) \
         AND id NOT IN (SELECT cluster_id FROM integrity_decisions WHERE round_id = $1)",
    )
    .bind(round.0)
    .execute(&mut *tx)
    .await?;
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM held_ballots WHERE round_id = $1 AND state = 'held'",
    )
    .bind(round.0)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(held as u64)
}

async fn clusters<DB: Dialect>(pool: &Pool<DB>, round: RoundId) -> Result<Vec<StoredCluster>> {
    let rows = sqlx::query(
        "SELECT c.id, c.unit_id, c.findings, c.found_at, \
         CAST(COALESCE(SUM(CASE WHEN h.state = 'held' THEN 1 ELSE 0 END), 0) AS BIGINT) AS held, \
         CAST(COALESCE(SUM(CASE WHEN h.state = 'kept' THEN 1 ELSE 0 END), 0) AS BIGINT) AS kept, \
         CAST(COALESCE(SUM(CASE WHEN h.state = 'released' THEN 1 ELSE 0 END), 0) AS BIGINT) AS released \
         FROM integrity_clusters c LEFT JOIN held_ballots h ON h.round_id = c.round_id AND h.cluster_id = c.id \
         WHERE c.round_id = $1 GROUP BY c.id, c.unit_id, c.findings, c.found_at",
    )
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            let findings: String = r.try_get("findings")?;
            Ok(StoredCluster {
                id: r.try_get("id")?,
                unit: UnitId(r.try_get("unit_id")?),
                findings: serde_json::from_str(&findings).map_err(|e| corrupt(e.to_string()))?,
                found_at: r.try_get("found_at")?,
                held: r.try_get::<i64, _>("held")? as u64,
                kept: r.try_get::<i64, _>("kept")? as u64,
                released: r.try_get::<i64, _>("released")? as u64,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| {
        (b.held + b.kept + b.released)
            .cmp(&(a.held + a.kept + a.released))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

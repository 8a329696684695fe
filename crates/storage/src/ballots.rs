//! Ballots: intake (the hot path, one transaction per batch), reading one back by its
//! receipt, and the counts, tallies and comments added up from them.
//!
//! Each `pub(crate)` function is the SQL of the [`crate::Storage`] method of the same
//! name.

use crate::{
    BallotRejected, NewBallot, Result, StoredBallot,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::{MAX_BINDS, corrupt},
};
use chrono::{DateTime, Utc};
use minping_domain::{Ballot, Channel, IndicatorMask, Nomination, RoundId, Tally, UnitId};
use serde_json::json;
use sqlx::{Pool, Row, Transaction};
use std::collections::BTreeSet;

/// What became of each ballot of a batch, in order.
type Outcomes = Vec<std::result::Result<(), BallotRejected>>;

/// The most rows one multi-row INSERT of the intake path carries.
const MAX_CHUNK_ROWS: usize = 256;

/// Splits `rows` for multi-row INSERTs of `binds_per_row` parameters each into chunks whose
/// lengths are powers of two, largest first. Batches come in every size, and each size would
/// be a new statement to prepare; this way a table sees at most nine shapes, all of them
/// kept in the connection's statement cache.
pub(crate) fn fixed_chunks<T>(rows: &[T], binds_per_row: usize) -> impl Iterator<Item = &[T]> {
    let cap = MAX_CHUNK_ROWS.min(MAX_BINDS / binds_per_row);
    let cap = 1usize << cap.ilog2();
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = cap.min(1 << rest.len().ilog2());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// Stores a batch in one transaction on `intake`, the pool ballot intake writes through (see
/// [`crate::Store`]).
pub(crate) async fn insert_ballots<DB: Dialect>(
    intake: &Pool<DB>,
    batch: &[NewBallot],
) -> Result<Outcomes> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = intake.begin_with(DB::BEGIN_WRITE).await?;
    let round_ids: BTreeSet<i64> = batch.iter().map(|b| b.round_id.0).collect();
    let mut open = BTreeSet::new();
    for id in round_ids {
        // Read the state inside the transaction: a round closed a moment ago
        // takes no more ballots, even ones already queued. On PostgreSQL the row
        // stays share-locked until commit, so a close waits for these ballots
        // (rounds are locked in id order: two batches never deadlock).
        let state: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT state FROM rounds WHERE id = $1{}",
            DB::SHARE_LOCK
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if state.as_deref() == Some("open") {
            open.insert(id);
            // Counting a kept conflict takes it too: a further use of the same code arriving
            // meanwhile then sees the conflict counted and is refused, not queued again.
            let spends = batch
                .iter()
                .any(|b| b.round_id.0 == id && (b.spend.is_some() || b.resolves.is_some()));
            if let (true, Some(lock)) = (spends, DB::SPEND_LOCK) {
                sqlx::query(lock).bind(id).execute(&mut *tx).await?;
            }
        }
    }
    let mut outcomes: Outcomes = Vec::with_capacity(batch.len());
    for nb in batch {
        let outcome = if open.contains(&nb.round_id.0) {
            admit(&mut tx, nb).await?
        } else {
            Err(BallotRejected::RoundNotOpen)
        };
        outcomes.push(outcome);
    }
    let accepted: Vec<&NewBallot> = batch
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.is_ok())
        .map(|(b, _)| b)
        .collect();
    write_rows(&mut tx, &accepted).await?;
    let spending: BTreeSet<i64> = accepted
        .iter()
        .filter(|b| b.spend.is_some())
        .map(|b| b.round_id.0)
        .collect();
    for round in spending {
        rewrite_spent_codes(&mut tx, RoundId(round)).await?;
    }
    // The staff decisions among them, last (see `crate::audit`).
    for (nb, outcome) in batch.iter().zip(&outcomes) {
        for (actor, at, change) in decisions(nb, outcome) {
            record::<DB>(&mut tx, actor, at, &change).await?;
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Rewrites a round's spent codes whole, in digest order, within the transaction that
/// spends some: every row then carries this transaction's id and sits where the digest
/// order puts it, so neither system columns (`xmin`, `ctid`, rowid) nor the physical order
/// tell which code was spent with which ballot. A few thousand narrow rows at most.
async fn rewrite_spent_codes<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    round: RoundId,
) -> Result<()> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT code_digest, response FROM spent_codes WHERE round_id = $1 ORDER BY code_digest",
    )
    .bind(round.0)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM spent_codes WHERE round_id = $1")
        .bind(round.0)
        .execute(&mut **tx)
        .await?;
    for chunk in rows.chunks(MAX_CHUNK_ROWS) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO spent_codes (round_id, code_digest, response) ",
        );
        q.push_values(chunk, |mut b, (digest, response)| {
            b.push_bind(round.0)
                .push_bind(digest.as_str())
                .push_bind(response.as_str());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Decides one ballot for an open round, within the batch's transaction: checks its paper
/// form and the conflict it resolves, spends its code, or sends it to the conflict queue.
async fn admit<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    nb: &NewBallot,
) -> Result<std::result::Result<(), BallotRejected>> {
    if let Some(form) = &nb.paper_form {
        let decided: Option<String> = sqlx::query_scalar(crate::panel::PAPER_OUTCOME)
            .bind(nb.round_id.0)
            .bind(&form.key)
            .fetch_optional(&mut **tx)
            .await?;
        if decided.is_some() {
            return Ok(Err(BallotRejected::FormAlreadyDecided));
        }
        // The ballot now holds what the clerks keyed: their entries go, and taking them is
        // what decides the form. An organizer's dismissal deleting them at the same moment
        // holds their rows until it commits, and one of the two finds none left.
        let taken = sqlx::query("DELETE FROM paper_entries WHERE round_id = $1 AND form_key = $2")
            .bind(nb.round_id.0)
            .bind(&form.key)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if taken == 0 {
            return Ok(Err(BallotRejected::FormAlreadyDecided));
        }
    }
    if let Some(r) = &nb.resolves {
        // Counting a kept ballot: the conflict must still be pending, and it
        // is marked counted together with the ballot, or not at all. It keeps neither the
        // code's digest (a tag refuses later uses) nor the content the ballot now holds.
        let done = sqlx::query(
            "UPDATE code_conflicts SET state = 'counted', resolved_by = $1, resolved_at = $2, reason = $3, \
             code_digest = $6, content = '' WHERE id = $4 AND round_id = $5 AND state = 'pending'",
        )
        .bind(&r.by.name)
        .bind(r.at)
        .bind(&r.reason)
        .bind(r.conflict_id)
        .bind(nb.round_id.0)
        .bind(&r.tag)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(Err(BallotRejected::ConflictAlreadyResolved));
        }
    }
    let Some(spend) = &nb.spend else {
        decide_paper_form(tx, nb, "counted").await?;
        return Ok(Ok(()));
    };
    // Spend the code only if it belongs to the round's sample and is unspent; the ballot and
    // the spending commit together or not at all. The sample is only read (a row lock would
    // leave this transaction's id on the member's row), and the batch rewrites the round's
    // spent codes whole before it commits (see `rewrite_spent_codes`).
    let known: Option<i64> = sqlx::query_scalar(
        "SELECT member_id FROM panel_sample WHERE round_id = $1 AND code_digest = $2",
    )
    .bind(nb.round_id.0)
    .bind(&spend.digest)
    .fetch_optional(&mut **tx)
    .await?;
    if known.is_none() {
        return Ok(Err(BallotRejected::CodeInvalid));
    }
    let spent = sqlx::query(
        "INSERT INTO spent_codes (round_id, code_digest, response) VALUES ($1, $2, $3) \
         ON CONFLICT (round_id, code_digest) DO NOTHING",
    )
    .bind(nb.round_id.0)
    .bind(&spend.digest)
    .bind(spend.response.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if spent == 1 {
        decide_paper_form(tx, nb, "counted").await?;
        return Ok(Ok(()));
    }
    // A second use. Once the organizer has decided one conflict of this code, no further
    // ballot is kept: at most one conflict per code is ever decided (and so counted).
    let decided: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM code_conflicts WHERE round_id = $1 AND code_digest = $2",
    )
    .bind(nb.round_id.0)
    .bind(&spend.resolved_tag)
    .fetch_optional(&mut **tx)
    .await?;
    if decided.is_none() {
        // Keep the ballot for the organizer: it replaces the one already waiting for this
        // code, if any, so however often a code is sent, one ballot waits (the partial
        // unique index makes this hold between concurrent transactions too).
        sqlx::query(
            "INSERT INTO code_conflicts (round_id, code_digest, response, content, received_on) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (round_id, code_digest) WHERE state = 'pending' DO UPDATE \
             SET response = excluded.response, content = excluded.content, received_on = excluded.received_on",
        )
        .bind(nb.round_id.0)
        .bind(&spend.digest)
        .bind(spend.response.as_str())
        .bind(crate::ballot_json(&nb.ballot))
        .bind(spend.on)
        .execute(&mut **tx)
        .await?;
    }
    decide_paper_form(tx, nb, "conflict").await?;
    Ok(Err(BallotRejected::CodeAlreadyUsed))
}

/// Writes the accepted ballots' rows: the ballots, their nominations and their exposures,
/// each table in multi-row INSERTs of [`fixed_chunks`].
async fn write_rows<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    accepted: &[&NewBallot],
) -> Result<()> {
    // Random ids: neither the id nor the row order tells when a ballot came.
    let ids: Vec<i64> = {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        accepted
            .iter()
            .map(|_| rng.gen_range(1..i64::MAX))
            .collect()
    };
    // Each table's rows go in in key order: consecutive inserts then share the
    // B-tree pages they land on (the ids are random, so the order tells nothing).
    let mut rows: Vec<(i64, &NewBallot)> =
        ids.iter().copied().zip(accepted.iter().copied()).collect();
    rows.sort_unstable_by_key(|(id, _)| *id);
    for chunk in fixed_chunks(&rows, 5) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO ballots (id, round_id, channel, receipt, received_on) ",
        );
        q.push_values(chunk, |mut b, (id, nb)| {
            b.push_bind(*id)
                .push_bind(nb.round_id.0)
                .push_bind(nb.ballot.channel.as_str())
                .push_bind(nb.receipt.as_str())
                .push_bind(nb.received_on);
        });
        q.build().execute(&mut **tx).await?;
    }
    let mut noms: Vec<(i64, &NewBallot, &Nomination)> = accepted
        .iter()
        .zip(&ids)
        .flat_map(|(nb, id)| nb.ballot.nominations.iter().map(move |n| (*id, *nb, n)))
        .collect();
    noms.sort_unstable_by_key(|(id, nb, n)| (nb.round_id.0, n.unit_id.0, *id));
    for chunk in fixed_chunks(&noms, 6) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO nominations (ballot_id, round_id, unit_id, channel, indicators, comment) ",
        );
        q.push_values(chunk, |mut b, (id, nb, n)| {
            b.push_bind(*id)
                .push_bind(nb.round_id.0)
                .push_bind(n.unit_id.0)
                .push_bind(nb.ballot.channel.as_str())
                .push_bind(n.indicators.0 as i64)
                .push_bind(n.comment.as_deref());
        });
        q.build().execute(&mut **tx).await?;
    }
    let exposures: Vec<(i64, UnitId)> = accepted
        .iter()
        .zip(&ids)
        .flat_map(|(nb, id)| nb.ballot.exposure.iter().map(move |u| (*id, *u)))
        .collect();
    let signals: Vec<(i64, RoundId, minping_domain::integrity::signals::Signals)> = accepted
        .iter()
        .zip(&ids)
        .filter_map(|(nb, id)| nb.signals.map(|s| (*id, nb.round_id, s)))
        .collect();
    crate::integrity::write_signals(tx, &signals).await?;
    for chunk in fixed_chunks(&exposures, 2) {
        let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO exposures (ballot_id, unit_id) ");
        q.push_values(chunk, |mut b, (id, u)| {
            b.push_bind(*id).push_bind(u.0);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// What the audit log keeps of the staff decisions a stored ballot carries: a counted
/// conflict, an adjudicated paper form. A directed form is named by its round only: its key
/// is the code's digest, which beside this ballot's transaction would pair member and
/// ballot.
fn decisions<'a>(
    nb: &'a NewBallot,
    outcome: &std::result::Result<(), BallotRejected>,
) -> Vec<(&'a crate::Actor, DateTime<Utc>, Change)> {
    let mut changes = Vec::new();
    if let (Some(r), Ok(())) = (&nb.resolves, outcome) {
        changes.push((
            &r.by,
            r.at,
            Change::new(
                "conflict.count",
                format!("conflict:{}", r.conflict_id),
                json!({ "round_id": nb.round_id.0, "reason": r.reason }),
            ),
        ));
    }
    let kept = matches!(outcome, Ok(()) | Err(BallotRejected::CodeAlreadyUsed));
    if let (Some(form), true) = (&nb.paper_form, kept)
        && form.adjudicated
    {
        let outcome = if outcome.is_ok() {
            "counted"
        } else {
            "conflict"
        };
        let change = if nb.spend.is_some() {
            Change::new(
                "paper.adjudicate",
                format!("round:{}", nb.round_id.0),
                json!({ "channel": "directed", "outcome": outcome }),
            )
        } else {
            Change::new(
                "paper.adjudicate",
                format!("paper_form:{}:{}", nb.round_id.0, form.key),
                json!({ "channel": "open", "outcome": outcome }),
            )
        };
        changes.push((&form.decided_by, form.at, change));
    }
    changes
}

/// Records a paper form's outcome (its entries went when it was admitted).
///
/// A directed form counted into a ballot leaves no row: its key is the code's digest,
/// and a row written in the ballot's transaction would pair the member with the ballot.
/// Its code, spent on paper, says it was counted ([`crate::panel::PAPER_OUTCOME`]).
async fn decide_paper_form<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    nb: &NewBallot,
    outcome: &str,
) -> Result<()> {
    let Some(form) = &nb.paper_form else {
        return Ok(());
    };
    if outcome == "counted" && nb.spend.is_some() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO paper_forms (round_id, form_key, outcome, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(nb.round_id.0)
    .bind(&form.key)
    .bind(outcome)
    .bind(&form.decided_by.name)
    .bind(form.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn ballot_by_receipt<DB: Dialect>(
    pool: &Pool<DB>,
    receipt: &str,
) -> Result<Option<StoredBallot>> {
    let Some(row) = sqlx::query(
        "SELECT id, round_id, channel, receipt, received_on FROM ballots WHERE receipt = $1",
    )
    .bind(receipt)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get("id")?;
    let round_id: i64 = row.try_get("round_id")?;
    let channel: String = row.try_get("channel")?;
    // Nominations are kept by round and unit: probe each unit for this ballot.
    let noms = sqlx::query(
        "SELECT unit_id, indicators, comment FROM nominations \
         WHERE round_id = $1 AND unit_id IN (SELECT id FROM units) AND ballot_id = $2 ORDER BY unit_id",
    )
    .bind(round_id)
    .bind(id)
    .fetch_all(pool)
    .await?;
    let exposure: Vec<i64> =
        sqlx::query_scalar("SELECT unit_id FROM exposures WHERE ballot_id = $1 ORDER BY unit_id")
            .bind(id)
            .fetch_all(pool)
            .await?;
    Ok(Some(StoredBallot {
        round_id: RoundId(round_id),
        receipt: row.try_get("receipt")?,
        received_on: row.try_get("received_on")?,
        ballot: Ballot {
            channel: channel.parse().map_err(|()| corrupt(channel))?,
            code: None,
            nominations: noms
                .iter()
                .map(|r| {
                    Ok(Nomination {
                        unit_id: UnitId(r.try_get("unit_id")?),
                        indicators: IndicatorMask(r.try_get::<i64, _>("indicators")? as u16),
                        comment: r.try_get("comment")?,
                    })
                })
                .collect::<Result<_>>()?,
            exposure: exposure.into_iter().map(UnitId).collect(),
        },
    }))
}

pub(crate) async fn ballot_count<DB: Dialect>(pool: &Pool<DB>, round: RoundId) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ballots WHERE round_id = $1")
        .bind(round.0)
        .fetch_one(pool)
        .await?;
    Ok(n as u64)
}

pub(crate) async fn counted_receipts<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT receipt FROM ballots WHERE round_id = $1 AND id NOT IN ({}) ORDER BY receipt",
        crate::integrity::HELD_IDS
    )))
    .bind(round.0)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn tallies<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    indicators: usize,
) -> Result<Vec<Tally>> {
    // Every ballot, less the ones the integrity scan holds (few, so subtracting their
    // tallies costs less than testing every nomination for a hold; none, and there is
    // nothing to subtract).
    let all = tallies_where(pool, round, indicators, "1 = 1").await?;
    let holds: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM ({}) h",
        crate::integrity::HELD_IDS
    )))
    .bind(round.0)
    .fetch_one(pool)
    .await?;
    if holds == 0 {
        return Ok(all);
    }
    let held = tallies_where(
        pool,
        round,
        indicators,
        &format!("ballot_id IN ({})", crate::integrity::HELD_IDS),
    )
    .await?;
    if held.is_empty() {
        return Ok(all);
    }
    let held: std::collections::HashMap<UnitId, Tally> =
        held.into_iter().map(|t| (t.unit_id, t)).collect();
    Ok(all
        .into_iter()
        .filter_map(|mut t| {
            if let Some(h) = held.get(&t.unit_id) {
                t.subtract(h);
            }
            (!t.nominations.is_empty()).then_some(t)
        })
        .collect())
}

/// The tallies of the round's nominations that meet `condition` (SQL over `nominations`,
/// where `$1` is the round).
pub(crate) async fn tallies_where<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    indicators: usize,
    condition: &str,
) -> Result<Vec<Tally>> {
    // Grouped by unit alone, in the order nominations are kept (on SQLite the
    // table itself is ordered by round and unit), with the channels counted apart.
    let mut sql = String::from(
        "SELECT unit_id, COUNT(*) AS n, \
         CAST(SUM(CASE WHEN channel = 'directed' THEN 1 ELSE 0 END) AS BIGINT) AS directed, \
         CAST(SUM(CASE WHEN channel = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open",
    );
    for i in 0..indicators {
        sql.push_str(&format!(
            ", CAST(SUM((indicators >> {i}) & 1) AS BIGINT) AS i{i}"
        ));
    }
    sql.push_str(&format!(
        " FROM nominations WHERE round_id = $1 AND {condition} GROUP BY unit_id ORDER BY unit_id"
    ));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(round.0)
        .fetch_all(pool)
        .await?;
    let mut tallies = Vec::with_capacity(rows.len());
    for r in &rows {
        let unit: i64 = r.try_get("unit_id")?;
        let mut t = Tally::new(UnitId(unit), indicators);
        let (n, directed, open): (i64, i64, i64) =
            (r.try_get("n")?, r.try_get("directed")?, r.try_get("open")?);
        if directed + open != n {
            return Err(corrupt(format!(
                "{} nominations of unit {unit} name no known channel",
                n - directed - open
            )));
        }
        for (channel, count) in [(Channel::Directed, directed), (Channel::Open, open)] {
            if count > 0 {
                t.nominations.insert(channel, count as u64);
            }
        }
        for i in 0..indicators {
            t.indicator_counts[i] = r.try_get::<i64, _>(format!("i{i}").as_str())? as u64;
        }
        tallies.push(t);
    }
    Ok(tallies)
}

pub(crate) async fn comments<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    unit: UnitId,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT comment FROM nominations WHERE round_id = $1 AND unit_id = $2 AND comment IS NOT NULL \
         AND ballot_id NOT IN ({}) ORDER BY comment",
        crate::integrity::HELD_IDS
    )))
    .bind(round.0)
    .bind(unit.0)
    .fetch_all(pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::fixed_chunks;
    use crate::sql::MAX_BINDS;

    #[test]
    fn chunks_are_powers_of_two_and_cover_every_row_in_order() {
        for n in [0usize, 1, 2, 3, 7, 64, 255, 256, 257, 350, 1000, 5000] {
            let rows: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = fixed_chunks(&rows, 6).collect();
            assert!(
                chunks
                    .iter()
                    .all(|c| c.len().is_power_of_two() && c.len() <= 256)
            );
            assert_eq!(chunks.concat(), rows, "{n} rows");
        }
        // 350 = 256 + 64 + 16 + 8 + 4 + 2
        let rows = vec![0u8; 350];
        let sizes: Vec<usize> = fixed_chunks(&rows, 6).map(<[u8]>::len).collect();
        assert_eq!(sizes, [256, 64, 16, 8, 4, 2]);
        // A wide row lowers the cap so a statement stays under the bind limit.
        let rows = vec![0u8; 10];
        let wide = 10_000;
        assert!(fixed_chunks(&rows, wide).all(|c| c.len() * wide <= MAX_BINDS));
        assert_eq!(fixed_chunks(&rows, wide).count(), 5);
    }
}

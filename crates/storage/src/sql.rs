//! The queries, written once in the SQL that SQLite and PostgreSQL share (`$n` parameters,
//! `RETURNING`, `CAST(.. AS BIGINT)`), and expanded for each backend's driver by
//! [`impl_storage!`]. Column types are chosen per backend in the migrations so that the
//! same Rust types decode from both. What differs per backend is named once, in
//! [`crate::dialect::Dialect`].

/// Bind parameters a single multi-row INSERT may carry on both backends.
pub(crate) const MAX_BINDS: usize = 30_000;

/// Stored data that does not read back as what it should be.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> crate::StorageError {
    crate::StorageError::Corrupt(what.to_string())
}

/// Unique-constraint violations become conflicts the caller can explain, and a foreign key
/// pointing nowhere a thing not found.
pub(crate) fn conflict_or(e: sqlx::Error, message: &str) -> crate::StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            crate::StorageError::Conflict(message.to_string())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => crate::StorageError::NotFound,
        _ => crate::StorageError::Database(e),
    }
}

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

/// Implements [`crate::Storage`] for `$store` (a struct with a `pool: sqlx::Pool<$db>`).
macro_rules! impl_storage {
    ($store:ty, $db:ty) => {
        use crate::{
            Actor, Backend, BallotRejected, FrozenRanking, NewBallot, Result, Storage,
            StorageError, StoredBallot, User, dialect::Dialect, sql::fixed_chunks,
        };
        use async_trait::async_trait;
        use chrono::{DateTime, NaiveDate, Utc};
        use minping_domain::{
            Agency, AgencyId, Ballot, Channel, IndicatorMask, Nomination, Person,
            PersonId, Post, PostRole, Role, Round, RoundId, RoundLabel,
            RoundState, Tally, Transition, Unit, UnitId, UserId, settings::RoundSettings,
        };
        use sqlx::Row;
        use std::collections::BTreeSet;

        type DbRow = <$db as sqlx::Database>::Row;

        fn corrupt(what: impl std::fmt::Display) -> StorageError {
            StorageError::Corrupt(what.to_string())
        }

        /// Unique-constraint violations become conflicts the caller can explain.
        fn conflict_or(e: sqlx::Error, message: &str) -> StorageError {
            match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StorageError::Conflict(message.to_string())
                }
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StorageError::NotFound
                }
                _ => StorageError::Database(e),
            }
        }

        fn user_from(row: &DbRow) -> Result<User> {
            let role: String = row.try_get("role")?;
            Ok(User {
                id: UserId(row.try_get("id")?),
                name: row.try_get("name")?,
                role: role.parse::<Role>().map_err(corrupt)?,
                unit_id: row.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
                password_hash: row.try_get("password_hash")?,
            })
        }

        const USER_SELECT: &str = "SELECT id, name, role, unit_id, password_hash FROM users";

        #[async_trait]
        impl Storage for $store {
            fn backend(&self) -> Backend {
                <$db as Dialect>::BACKEND
            }

            async fn create_agency(&self, name: &str) -> Result<Agency> {
                crate::org::create_agency(&self.pool, name).await
            }

            async fn agencies(&self) -> Result<Vec<Agency>> {
                crate::org::agencies(&self.pool).await
            }

            async fn create_unit(&self, agency: AgencyId, name: &str, kind: &str) -> Result<Unit> {
                crate::org::create_unit(&self.pool, agency, name, kind).await
            }

            async fn units(&self) -> Result<Vec<Unit>> {
                crate::org::units(&self.pool).await
            }

            async fn set_unit_active(&self, unit: UnitId, active: bool) -> Result<()> {
                crate::org::set_unit_active(&self.pool, unit, active).await
            }

            async fn create_person(&self, name: &str) -> Result<Person> {
                crate::org::create_person(&self.pool, name).await
            }

            async fn people(&self) -> Result<Vec<Person>> {
                crate::org::people(&self.pool).await
            }

            async fn assign_post(
                &self,
                person: PersonId,
                unit: UnitId,
                role: PostRole,
                start: NaiveDate,
            ) -> Result<Post> {
                crate::org::assign_post(&self.pool, person, unit, role, start).await
            }

            async fn posts(&self) -> Result<Vec<Post>> {
                crate::org::posts(&self.pool).await
            }

            async fn create_round(
                &self,
                label: RoundLabel,
                settings: &RoundSettings,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<Round> {
                crate::rounds::create_round(&self.pool, label, settings, actor, at).await
            }

            async fn rounds(&self) -> Result<Vec<Round>> {
                crate::rounds::rounds(&self.pool).await
            }

            async fn round(&self, id: RoundId) -> Result<Option<Round>> {
                crate::rounds::round(&self.pool, id).await
            }

            async fn transition_round(
                &self,
                id: RoundId,
                from: RoundState,
                to: RoundState,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<()> {
                crate::rounds::transition_round(&self.pool, id, from, to, actor, at).await
            }

            async fn finalize_round(
                &self,
                id: RoundId,
                frozen: &FrozenRanking,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<()> {
                crate::rounds::finalize_round(&self.pool, id, frozen, actor, at).await
            }

            async fn transitions(&self, id: RoundId) -> Result<Vec<Transition>> {
                crate::rounds::transitions(&self.pool, id).await
            }

            async fn frozen_ranking(&self, id: RoundId) -> Result<Option<FrozenRanking>> {
                crate::rounds::frozen_ranking(&self.pool, id).await
            }

            async fn insert_ballots(
                &self,
                batch: &[NewBallot],
            ) -> Result<Vec<std::result::Result<(), BallotRejected>>> {
                if batch.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.intake.begin_with(<$db as Dialect>::BEGIN_WRITE).await?;
                let round_ids: BTreeSet<i64> = batch.iter().map(|b| b.round_id.0).collect();
                let mut open = BTreeSet::new();
                for id in round_ids {
                    // Read the state inside the transaction: a round closed a moment ago
                    // takes no more ballots, even ones already queued. On PostgreSQL the row
                    // stays share-locked until commit, so a close waits for these ballots
                    // (rounds are locked in id order: two batches never deadlock).
                    let state: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT state FROM rounds WHERE id = $1{}",
                        <$db as Dialect>::SHARE_LOCK
                    )))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if state.as_deref() == Some("open") {
                        open.insert(id);
                    }
                }
                let mut outcomes: Vec<std::result::Result<(), BallotRejected>> = Vec::with_capacity(batch.len());
                for nb in batch {
                    if !open.contains(&nb.round_id.0) {
                        outcomes.push(Err(BallotRejected::RoundNotOpen));
                        continue;
                    }
                    if let Some(form) = &nb.paper_form {
                        let decided: Option<String> = sqlx::query_scalar(
                            "SELECT outcome FROM paper_forms WHERE round_id = $1 AND form_key = $2",
                        )
                        .bind(nb.round_id.0)
                        .bind(&form.key)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if decided.is_some() {
                            outcomes.push(Err(BallotRejected::FormAlreadyDecided));
                            continue;
                        }
                    }
                    if let Some(r) = &nb.resolves {
                        // Counting a kept ballot: the conflict must still be pending, and it
                        // is marked counted together with the ballot, or not at all.
                        let done = sqlx::query(
                            "UPDATE code_conflicts SET state = 'counted', resolved_by = $1, resolved_at = $2, reason = $3 \
                             WHERE id = $4 AND round_id = $5 AND state = 'pending'",
                        )
                        .bind(&r.by)
                        .bind(r.at)
                        .bind(&r.reason)
                        .bind(r.conflict_id)
                        .bind(nb.round_id.0)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if done == 0 {
                            outcomes.push(Err(BallotRejected::ConflictAlreadyResolved));
                            continue;
                        }
                    }
                    let Some(spend) = &nb.spend else {
                        decide_paper_form(&mut tx, nb, "counted").await?;
                        outcomes.push(Ok(()));
                        continue;
                    };
                    // Spend the code only if unspent; the ballot and the spending commit
                    // together or not at all.
                    let spent = sqlx::query(
                        "UPDATE panel_sample SET responded_on = $1, response = $2 \
                         WHERE round_id = $3 AND code_digest = $4 AND responded_on IS NULL",
                    )
                    .bind(spend.on)
                    .bind(spend.response.as_str())
                    .bind(nb.round_id.0)
                    .bind(&spend.digest)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if spent == 1 {
                        decide_paper_form(&mut tx, nb, "counted").await?;
                        outcomes.push(Ok(()));
                        continue;
                    }
                    let known: Option<i64> = sqlx::query_scalar(
                        "SELECT member_id FROM panel_sample WHERE round_id = $1 AND code_digest = $2",
                    )
                    .bind(nb.round_id.0)
                    .bind(&spend.digest)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if known.is_none() {
                        outcomes.push(Err(BallotRejected::CodeInvalid));
                        continue;
                    }
                    // A second use: keep the ballot for the organizer to resolve.
                    sqlx::query(
                        "INSERT INTO code_conflicts (round_id, code_digest, response, content, received_on) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(nb.round_id.0)
                    .bind(&spend.digest)
                    .bind(spend.response.as_str())
                    .bind(crate::ballot_json(&nb.ballot))
                    .bind(spend.on)
                    .execute(&mut *tx)
                    .await?;
                    decide_paper_form(&mut tx, nb, "conflict").await?;
                    outcomes.push(Err(BallotRejected::CodeAlreadyUsed));
                }
                let accepted: Vec<&NewBallot> = batch
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| o.is_ok())
                    .map(|(b, _)| b)
                    .collect();
                // Random ids: neither the id nor the row order tells when a ballot came.
                let ids: Vec<i64> = {
                    use rand::Rng;
                    let mut rng = rand::thread_rng();
                    accepted.iter().map(|_| rng.gen_range(1..i64::MAX)).collect()
                };
                // Each table's rows go in in key order: consecutive inserts then share the
                // B-tree pages they land on (the ids are random, so the order tells nothing).
                let mut rows: Vec<(i64, &NewBallot)> = ids.iter().copied().zip(accepted.iter().copied()).collect();
                rows.sort_unstable_by_key(|(id, _)| *id);
                for chunk in fixed_chunks(&rows, 5) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO ballots (id, round_id, channel, receipt, received_on) ",
                    );
                    q.push_values(chunk, |mut b, (id, nb)| {
                        b.push_bind(*id)
                            .push_bind(nb.round_id.0)
                            .push_bind(nb.ballot.channel.as_str())
                            .push_bind(nb.receipt.as_str())
                            .push_bind(nb.received_on);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let mut noms: Vec<(i64, &NewBallot, &Nomination)> = accepted
                    .iter()
                    .zip(&ids)
                    .flat_map(|(nb, id)| nb.ballot.nominations.iter().map(move |n| (*id, *nb, n)))
                    .collect();
                noms.sort_unstable_by_key(|(id, nb, n)| (nb.round_id.0, n.unit_id.0, *id));
                for chunk in fixed_chunks(&noms, 6) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
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
                    q.build().execute(&mut *tx).await?;
                }
                let exposures: Vec<(i64, UnitId)> = accepted
                    .iter()
                    .zip(&ids)
                    .flat_map(|(nb, id)| nb.ballot.exposure.iter().map(move |u| (*id, *u)))
                    .collect();
                for chunk in fixed_chunks(&exposures, 2) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO exposures (ballot_id, unit_id) ");
                    q.push_values(chunk, |mut b, (id, u)| {
                        b.push_bind(*id).push_bind(u.0);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn ballot_by_receipt(&self, receipt: &str) -> Result<Option<StoredBallot>> {
                let Some(row) = sqlx::query("SELECT id, round_id, channel, receipt, received_on FROM ballots WHERE receipt = $1")
                    .bind(receipt)
                    .fetch_optional(&self.pool)
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
                .fetch_all(&self.pool)
                .await?;
                let exposure: Vec<i64> = sqlx::query_scalar("SELECT unit_id FROM exposures WHERE ballot_id = $1 ORDER BY unit_id")
                    .bind(id)
                    .fetch_all(&self.pool)
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

            async fn ballot_count(&self, round: RoundId) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ballots WHERE round_id = $1")
                    .bind(round.0)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n as u64)
            }

            async fn tallies(&self, round: RoundId, indicators: usize) -> Result<Vec<Tally>> {
                // Grouped by unit alone, in the order nominations are kept (on SQLite the
                // table itself is ordered by round and unit), with the channels counted apart.
                let mut sql = String::from(
                    "SELECT unit_id, COUNT(*) AS n, \
                     CAST(SUM(CASE WHEN channel = 'directed' THEN 1 ELSE 0 END) AS BIGINT) AS directed, \
                     CAST(SUM(CASE WHEN channel = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open",
                );
                for i in 0..indicators {
                    sql.push_str(&format!(", CAST(SUM((indicators >> {i}) & 1) AS BIGINT) AS i{i}"));
                }
                sql.push_str(" FROM nominations WHERE round_id = $1 GROUP BY unit_id ORDER BY unit_id");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(round.0).fetch_all(&self.pool).await?;
                let mut tallies = Vec::with_capacity(rows.len());
                for r in &rows {
                    let unit: i64 = r.try_get("unit_id")?;
                    let mut t = Tally::new(UnitId(unit), indicators);
                    let (n, directed, open): (i64, i64, i64) =
                        (r.try_get("n")?, r.try_get("directed")?, r.try_get("open")?);
                    if directed + open != n {
                        return Err(corrupt(format!("{} nominations of unit {unit} name no known channel", n - directed - open)));
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

            async fn comments(&self, round: RoundId, unit: UnitId) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT comment FROM nominations WHERE round_id = $1 AND unit_id = $2 AND comment IS NOT NULL ORDER BY comment",
                )
                .bind(round.0)
                .bind(unit.0)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_user(
                &self,
                name: &str,
                role: Role,
                unit: Option<UnitId>,
                password_hash: &str,
            ) -> Result<User> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (name, role, unit_id, password_hash) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(name)
                .bind(role.as_str())
                .bind(unit.map(|u| u.0))
                .bind(password_hash)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| conflict_or(e, "a user of that name exists"))?;
                Ok(User {
                    id: UserId(id),
                    name: name.to_string(),
                    role,
                    unit_id: unit,
                    password_hash: password_hash.to_string(),
                })
            }

            async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE name = $1")))
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn user(&self, id: UserId) -> Result<Option<User>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE id = $1")))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn add_token(&self, user: UserId, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
                sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
                    .bind(token_hash)
                    .bind(user.0)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| conflict_or(e, "token exists"))?;
                Ok(())
            }

            async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>> {
                let row = sqlx::query(
                    "SELECT u.id, u.name, u.role, u.unit_id, u.password_hash FROM api_tokens t \
                     JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn load_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
                    .bind(id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn save_session(&self, id: &str, data: &str, expires: DateTime<Utc>) -> Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                )
                .bind(id)
                .bind(data)
                .bind(expires)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_session(&self, id: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }

        /// Records a paper form's outcome and deletes its entries: the ballot (or the
        /// conflict queue) now holds what was keyed.
        async fn decide_paper_form(
            tx: &mut sqlx::Transaction<'_, $db>,
            nb: &NewBallot,
            outcome: &str,
        ) -> Result<()> {
            let Some(form) = &nb.paper_form else { return Ok(()) };
            sqlx::query(
                "INSERT INTO paper_forms (round_id, form_key, outcome, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(nb.round_id.0)
            .bind(&form.key)
            .bind(outcome)
            .bind(&form.decided_by)
            .bind(Utc::now())
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM paper_entries WHERE round_id = $1 AND form_key = $2")
                .bind(nb.round_id.0)
                .bind(&form.key)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }


    };
}

pub(crate) use impl_storage;

#[cfg(test)]
mod tests {
    use super::fixed_chunks;

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
        assert!(fixed_chunks(&rows, wide).all(|c| c.len() * wide <= super::MAX_BINDS));
        assert_eq!(fixed_chunks(&rows, wide).count(), 5);
    }
}

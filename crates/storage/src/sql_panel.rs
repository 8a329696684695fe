//! The panel's queries, shared by both backends like [`crate::sql`].

/// Implements [`crate::PanelStore`] for `$store` over `$db`.
macro_rules! impl_panel_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use crate::{
                Actor, Response, Result, StorageError,
                panel::{
                    Conflict, FrozenFrame, MailStatus, Member, MemberFilter, PanelStore, PaperEntry, SampleRow,
                    StratumCounts,
                },
            };
            use async_trait::async_trait;
            use chrono::{DateTime, NaiveDate, Utc};
            use minping_domain::{RoundId, UserId, panel::NewMember};
            use sqlx::Row;
            use std::collections::{BTreeMap, HashSet};

            type DbRow = <$db as sqlx::Database>::Row;

            fn corrupt(what: impl std::fmt::Display) -> StorageError {
                StorageError::Corrupt(what.to_string())
            }

            const MEMBER_COLUMNS: &str = "m.id, m.name, m.grp, m.address, m.postcode, m.phone, m.units, m.source, \
                 m.added_on, m.active, m.left_on, m.left_reason";

            fn member_from(r: &DbRow) -> Result<Member> {
                let units: String = r.try_get("units")?;
                Ok(Member {
                    id: r.try_get("id")?,
                    details: NewMember {
                        name: r.try_get("name")?,
                        group: r.try_get("grp")?,
                        address: r.try_get("address")?,
                        postcode: r.try_get("postcode")?,
                        phone: r.try_get("phone")?,
                        units: serde_json::from_str(&units).map_err(corrupt)?,
                        source: r.try_get("source")?,
                        added_on: r.try_get("added_on")?,
                    },
                    active: r.try_get("active")?,
                    left_on: r.try_get("left_on")?,
                    left_reason: r.try_get("left_reason")?,
                })
            }

            fn response_from(s: Option<String>) -> Result<Option<Response>> {
                s.map(|s| match s.as_str() {
                    "paper" => Ok(Response::Paper),
                    "online" => Ok(Response::Online),
                    _ => Err(corrupt(s)),
                })
                .transpose()
            }

            fn entry_from(r: &DbRow) -> Result<PaperEntry> {
                Ok(PaperEntry {
                    id: r.try_get("id")?,
                    form_key: r.try_get("form_key")?,
                    channel: r.try_get("channel")?,
                    clerk_id: UserId(r.try_get("clerk_id")?),
                    clerk: r.try_get("clerk")?,
                    content: r.try_get("content")?,
                    created_at: r.try_get("created_at")?,
                })
            }

            fn conflict_from(r: &DbRow) -> Result<Conflict> {
                Ok(Conflict {
                    id: r.try_get("id")?,
                    round_id: RoundId(r.try_get("round_id")?),
                    code_digest: r.try_get("code_digest")?,
                    response: response_from(Some(r.try_get("response")?))?.ok_or_else(|| corrupt("response"))?,
                    content: r.try_get("content")?,
                    received_on: r.try_get("received_on")?,
                    state: r.try_get("state")?,
                    resolved_by: r.try_get("resolved_by")?,
                    reason: r.try_get("reason")?,
                })
            }

            /// The WHERE clause of a member filter, with its binds in order.
            fn member_where(filter: &MemberFilter) -> (String, Vec<String>) {
                let mut clauses = vec!["1 = 1".to_string()];
                let mut binds = Vec::new();
                if filter.active_only {
                    clauses.push("m.active = TRUE".into());
                }
                if let Some(g) = &filter.group {
                    binds.push(g.clone());
                    clauses.push(format!("m.grp = ${}", binds.len()));
                }
                if let Some(s) = filter.search.as_ref().filter(|s| !s.trim().is_empty()) {
                    binds.push(format!("%{}%", s.trim().replace('%', "").replace('_', "")));
                    let n = binds.len();
                    clauses.push(format!("(m.name LIKE ${n} OR m.phone LIKE ${n} OR m.address LIKE ${n})"));
                }
                (clauses.join(" AND "), binds)
            }

            const ENTRY_SELECT: &str = "SELECT e.id, e.form_key, e.channel, e.clerk_id, u.name AS clerk, e.content, e.created_at \
                 FROM paper_entries e JOIN users u ON u.id = e.clerk_id";

            #[async_trait]
            impl PanelStore for $store {
                async fn add_members(&self, members: &[NewMember]) -> Result<Vec<Option<i64>>> {
                    let mut tx = self.pool.begin_with(<$db as crate::dialect::Dialect>::BEGIN_WRITE).await?;
                    let mut seen = HashSet::new();
                    let mut out = Vec::with_capacity(members.len());
                    for m in members {
                        if !seen.insert((m.name.clone(), m.phone.clone())) {
                            out.push(None);
                            continue;
                        }
                        let units = serde_json::to_string(&m.units).map_err(corrupt)?;
                        let id: Option<i64> = sqlx::query_scalar(
                            "INSERT INTO panel_members (name, grp, address, postcode, phone, units, source, added_on, active) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE) ON CONFLICT (name, phone) DO NOTHING RETURNING id",
                        )
                        .bind(&m.name)
                        .bind(&m.group)
                        .bind(&m.address)
                        .bind(&m.postcode)
                        .bind(&m.phone)
                        .bind(units)
                        .bind(&m.source)
                        .bind(m.added_on)
                        .fetch_optional(&mut *tx)
                        .await?;
                        out.push(id);
                    }
                    tx.commit().await?;
                    Ok(out)
                }

                async fn members(&self, filter: &MemberFilter) -> Result<Vec<Member>> {
                    let (clause, binds) = member_where(filter);
                    let mut sql = format!("SELECT {MEMBER_COLUMNS} FROM panel_members m WHERE {clause} ORDER BY m.id");
                    if let Some(limit) = filter.limit {
                        sql.push_str(&format!(" LIMIT {} OFFSET {}", limit.max(0), filter.offset.max(0)));
                    }
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for b in binds {
                        q = q.bind(b);
                    }
                    q.fetch_all(&self.pool).await?.iter().map(member_from).collect()
                }

                async fn member_count(&self, filter: &MemberFilter) -> Result<i64> {
                    let (clause, binds) = member_where(filter);
                    let sql = format!("SELECT COUNT(*) FROM panel_members m WHERE {clause}");
                    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
                    for b in binds {
                        q = q.bind(b);
                    }
                    Ok(q.fetch_one(&self.pool).await?)
                }

                async fn deactivate_member(&self, id: i64, on: NaiveDate, reason: &str) -> Result<()> {
                    let done = sqlx::query(
                        "UPDATE panel_members SET active = FALSE, left_on = $1, left_reason = $2 WHERE id = $3 AND active = TRUE",
                    )
                    .bind(on)
                    .bind(reason)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 0 {
                        // Keep the first record of when and why a member left.
                        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM panel_members WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                        return Err(match exists {
                            Some(_) => StorageError::Conflict("this member has already left the panel".into()),
                            None => StorageError::NotFound,
                        });
                    }
                    Ok(())
                }

                async fn eligible(&self, round: RoundId, exclude_last: usize) -> Result<Vec<(i64, String)>> {
                    let label: Option<String> = sqlx::query_scalar("SELECT label FROM rounds WHERE id = $1")
                        .bind(round.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    let label = label.ok_or(StorageError::NotFound)?;
                    let recent: Vec<i64> = sqlx::query_scalar(
                        "SELECT id FROM rounds WHERE label < $1 ORDER BY label DESC LIMIT $2",
                    )
                    .bind(&label)
                    .bind(exclude_last as i64)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut excluded: HashSet<i64> = HashSet::new();
                    for r in recent {
                        let drawn: Vec<i64> = sqlx::query_scalar("SELECT member_id FROM panel_sample WHERE round_id = $1")
                            .bind(r)
                            .fetch_all(&self.pool)
                            .await?;
                        excluded.extend(drawn);
                    }
                    let rows = sqlx::query("SELECT id, grp FROM panel_members WHERE active = TRUE ORDER BY id")
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter()
                        .map(|r| Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("grp")?)))
                        .filter(|r: &Result<(i64, String)>| r.as_ref().map_or(true, |(id, _)| !excluded.contains(id)))
                        .collect()
                }

                async fn freeze_frame(
                    &self,
                    round: RoundId,
                    frame: &str,
                    frame_hash: &str,
                    sample_size: i64,
                    at: DateTime<Utc>,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO panel_frames (round_id, frame, frame_hash, sample_size, frozen_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(round.0)
                    .bind(frame)
                    .bind(frame_hash)
                    .bind(sample_size)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_unique_violation() => {
                            StorageError::Conflict("this round's frame is already frozen".into())
                        }
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StorageError::NotFound,
                        _ => StorageError::Database(e),
                    })?;
                    Ok(())
                }

                async fn frame(&self, round: RoundId) -> Result<Option<FrozenFrame>> {
                    let row = sqlx::query(
                        "SELECT frame, frame_hash, sample_size, frozen_at, seed, allocation FROM panel_frames WHERE round_id = $1",
                    )
                    .bind(round.0)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|r| {
                        Ok(FrozenFrame {
                            frame: r.try_get("frame")?,
                            frame_hash: r.try_get("frame_hash")?,
                            sample_size: r.try_get("sample_size")?,
                            frozen_at: r.try_get("frozen_at")?,
                            seed: r.try_get("seed")?,
                            allocation: r.try_get("allocation")?,
                        })
                    })
                    .transpose()
                }

                async fn record_draw(
                    &self,
                    round: RoundId,
                    seed: &str,
                    allocation: &str,
                    sample: &[(i64, String, String)],
                    _actor: &Actor,
                    at: DateTime<Utc>,
                ) -> Result<()> {
                    let mut tx = self.pool.begin_with(<$db as crate::dialect::Dialect>::BEGIN_WRITE).await?;
                    let done = sqlx::query(
                        "UPDATE panel_frames SET seed = $1, allocation = $2, drawn_at = $3 WHERE round_id = $4 AND seed IS NULL",
                    )
                    .bind(seed)
                    .bind(allocation)
                    .bind(at)
                    .bind(round.0)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StorageError::Conflict(
                            "freeze the frame first; a round is drawn only once".into(),
                        ));
                    }
                    for chunk in sample.chunks(crate::sql::MAX_BINDS / 4) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO panel_sample (round_id, member_id, grp, code_digest) ",
                        );
                        q.push_values(chunk, |mut b, (member, grp, digest)| {
                            b.push_bind(round.0).push_bind(*member).push_bind(grp.as_str()).push_bind(digest.as_str());
                        });
                        q.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn sample(&self, round: RoundId) -> Result<Vec<SampleRow>> {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {MEMBER_COLUMNS}, s.mail_status, s.responded_on, s.response \
                         FROM panel_sample s JOIN panel_members m ON m.id = s.member_id \
                         WHERE s.round_id = $1 ORDER BY m.postcode, m.address, m.id"
                    )))
                    .bind(round.0)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            let status: String = r.try_get("mail_status")?;
                            Ok(SampleRow {
                                member: member_from(r)?,
                                mail_status: MailStatus::parse(&status).ok_or_else(|| corrupt(status))?,
                                responded_on: r.try_get("responded_on")?,
                                response: response_from(r.try_get("response")?)?,
                            })
                        })
                        .collect()
                }

                async fn set_mail_status(&self, round: RoundId, member: i64, status: MailStatus) -> Result<()> {
                    let done = sqlx::query("UPDATE panel_sample SET mail_status = $1 WHERE round_id = $2 AND member_id = $3")
                        .bind(status.as_str())
                        .bind(round.0)
                        .bind(member)
                        .execute(&self.pool)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StorageError::NotFound);
                    }
                    Ok(())
                }

                async fn response_counts(&self, round: RoundId) -> Result<Vec<StratumCounts>> {
                    let rows = sqlx::query(
                        "SELECT grp, mail_status, response, COUNT(*) AS n FROM panel_sample WHERE round_id = $1 \
                         GROUP BY grp, mail_status, response ORDER BY grp",
                    )
                    .bind(round.0)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut by_group: BTreeMap<String, StratumCounts> = BTreeMap::new();
                    for r in &rows {
                        let group: String = r.try_get("grp")?;
                        let status: String = r.try_get("mail_status")?;
                        let response: Option<String> = r.try_get("response")?;
                        let n: i64 = r.try_get("n")?;
                        let c = by_group.entry(group.clone()).or_insert_with(|| StratumCounts { group, ..Default::default() });
                        c.drawn += n;
                        if status != "drawn" {
                            c.mailed += n;
                        }
                        match status.as_str() {
                            "undeliverable" => c.undeliverable += n,
                            "refused" => c.refused += n,
                            _ => {}
                        }
                        match response.as_deref() {
                            Some("paper") => c.paper += n,
                            Some("online") => c.online += n,
                            _ => {}
                        }
                    }
                    Ok(by_group.into_values().collect())
                }

                async fn code_state(&self, round: RoundId, digest: &str) -> Result<Option<bool>> {
                    let spent: Option<Option<NaiveDate>> = sqlx::query_scalar(
                        "SELECT responded_on FROM panel_sample WHERE round_id = $1 AND code_digest = $2",
                    )
                    .bind(round.0)
                    .bind(digest)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(spent.map(|d| d.is_some()))
                }

                async fn conflicts(&self, round: RoundId) -> Result<Vec<Conflict>> {
                    let rows = sqlx::query(
                        "SELECT id, round_id, code_digest, response, content, received_on, state, resolved_by, reason \
                         FROM code_conflicts WHERE round_id = $1 ORDER BY state <> 'pending', id",
                    )
                    .bind(round.0)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(conflict_from).collect()
                }

                async fn conflict(&self, id: i64) -> Result<Option<Conflict>> {
                    let row = sqlx::query(
                        "SELECT id, round_id, code_digest, response, content, received_on, state, resolved_by, reason \
                         FROM code_conflicts WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(conflict_from).transpose()
                }

                async fn resolve_conflict(
                    &self,
                    id: i64,
                    counted: bool,
                    actor: &Actor,
                    reason: &str,
                    at: DateTime<Utc>,
                ) -> Result<Conflict> {
                    let done = sqlx::query(
                        "UPDATE code_conflicts SET state = $1, resolved_by = $2, resolved_at = $3, reason = $4 \
                         WHERE id = $5 AND state = 'pending'",
                    )
                    .bind(if counted { "counted" } else { "dismissed" })
                    .bind(&actor.name)
                    .bind(at)
                    .bind(reason)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StorageError::Conflict("no pending conflict with that id".into()));
                    }
                    let row = sqlx::query(
                        "SELECT id, round_id, code_digest, response, content, received_on, state, resolved_by, reason \
                         FROM code_conflicts WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
                    conflict_from(&row)
                }

                async fn add_paper_entry(
                    &self,
                    round: RoundId,
                    form_key: &str,
                    channel: &str,
                    clerk: UserId,
                    content: &str,
                    at: DateTime<Utc>,
                ) -> Result<()> {
                    let mut tx = self.pool.begin_with(<$db as crate::dialect::Dialect>::BEGIN_WRITE).await?;
                    let decided: Option<String> =
                        sqlx::query_scalar("SELECT outcome FROM paper_forms WHERE round_id = $1 AND form_key = $2")
                            .bind(round.0)
                            .bind(form_key)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if let Some(outcome) = decided {
                        return Err(StorageError::Conflict(format!("this form is already decided ({outcome})")));
                    }
                    let existing: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM paper_entries WHERE round_id = $1 AND form_key = $2")
                            .bind(round.0)
                            .bind(form_key)
                            .fetch_one(&mut *tx)
                            .await?;
                    if existing >= 2 {
                        return Err(StorageError::Conflict(
                            "this form has two entries already and awaits adjudication".into(),
                        ));
                    }
                    sqlx::query(
                        "INSERT INTO paper_entries (round_id, form_key, channel, clerk_id, content, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(round.0)
                    .bind(form_key)
                    .bind(channel)
                    .bind(clerk.0)
                    .bind(content)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(
                            "you keyed this form already: a different clerk must key it the second time".into(),
                        ),
                        _ => StorageError::Database(e),
                    })?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn paper_entries(&self, round: RoundId, form_key: &str) -> Result<Vec<PaperEntry>> {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "{ENTRY_SELECT} WHERE e.round_id = $1 AND e.form_key = $2 ORDER BY e.id"
                    )))
                    .bind(round.0)
                    .bind(form_key)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(entry_from).collect()
                }

                async fn disputed_forms(&self, round: RoundId) -> Result<Vec<Vec<PaperEntry>>> {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "{ENTRY_SELECT} WHERE e.round_id = $1 ORDER BY e.form_key, e.id"
                    )))
                    .bind(round.0)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut forms: BTreeMap<String, Vec<PaperEntry>> = BTreeMap::new();
                    for r in &rows {
                        let e = entry_from(r)?;
                        forms.entry(e.form_key.clone()).or_default().push(e);
                    }
                    Ok(forms.into_values().filter(|entries| entries.len() >= 2).collect())
                }

                async fn forms_awaiting_second_entry(&self, round: RoundId) -> Result<Vec<PaperEntry>> {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "{ENTRY_SELECT} WHERE e.round_id = $1 AND (SELECT COUNT(*) FROM paper_entries o \
                         WHERE o.round_id = e.round_id AND o.form_key = e.form_key) = 1 ORDER BY e.id"
                    )))
                    .bind(round.0)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(entry_from).collect()
                }

                async fn paper_outcome(&self, round: RoundId, form_key: &str) -> Result<Option<String>> {
                    Ok(sqlx::query_scalar("SELECT outcome FROM paper_forms WHERE round_id = $1 AND form_key = $2")
                        .bind(round.0)
                        .bind(form_key)
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn close_paper_form(
                    &self,
                    round: RoundId,
                    form_key: &str,
                    outcome: &str,
                    actor: &Actor,
                    at: DateTime<Utc>,
                ) -> Result<()> {
                    let mut tx = self.pool.begin_with(<$db as crate::dialect::Dialect>::BEGIN_WRITE).await?;
                    sqlx::query(
                        "INSERT INTO paper_forms (round_id, form_key, outcome, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(round.0)
                    .bind(form_key)
                    .bind(outcome)
                    .bind(&actor.name)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_unique_violation() => {
                            StorageError::Conflict("this form is already decided".into())
                        }
                        _ => StorageError::Database(e),
                    })?;
                    sqlx::query("DELETE FROM paper_entries WHERE round_id = $1 AND form_key = $2")
                        .bind(round.0)
                        .bind(form_key)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use impl_panel_store;

//! The panel registry: members as imported, listed and counted through a filter, taken off
//! the panel, and who is eligible for a round's draw.
//!
//! Each `pub(super)` function is the SQL of the [`super::PanelStore`] method of the
//! same name.

use super::{Member, MemberFilter};
use crate::{
    Actor, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::corrupt,
};
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{RoundId, panel::NewMember};
use serde_json::json;
use sqlx::{Pool, Row};
use std::collections::HashSet;

/// The columns [`member_from`] reads, of `panel_members m`.
pub(super) const MEMBER_COLUMNS: &str = "m.id, m.name, m.grp, m.address, m.postcode, m.phone, m.units, m.source, \
     m.added_on, m.active, m.left_on, m.left_reason";

/// A member from a row of [`MEMBER_COLUMNS`].
pub(super) fn member_from<DB: Dialect>(r: &DB::Row) -> Result<Member> {
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
        binds.push(format!("%{}%", s.trim().replace(['%', '_'], "")));
        let n = binds.len();
        clauses.push(format!(
            "(m.name LIKE ${n} OR m.phone LIKE ${n} OR m.address LIKE ${n})"
        ));
    }
    (clauses.join(" AND "), binds)
}

pub(super) async fn add_members<DB: Dialect>(
    pool: &Pool<DB>,
    members: &[NewMember],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Vec<Option<i64>>> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
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
    // Who joined, by id: their details stay in the register.
    let added: Vec<i64> = out.iter().flatten().copied().collect();
    let change = Change::new(
        "panel.import",
        "panel",
        json!({ "added": added, "skipped": out.len() - added.len() }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(out)
}

pub(super) async fn members<DB: Dialect>(
    pool: &Pool<DB>,
    filter: &MemberFilter,
) -> Result<Vec<Member>> {
    let (clause, binds) = member_where(filter);
    let mut sql =
        format!("SELECT {MEMBER_COLUMNS} FROM panel_members m WHERE {clause} ORDER BY m.id");
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(
            " LIMIT {} OFFSET {}",
            limit.max(0),
            filter.offset.max(0)
        ));
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    q.fetch_all(pool)
        .await?
        .iter()
        .map(member_from::<DB>)
        .collect()
}

pub(super) async fn member_count<DB: Dialect>(
    pool: &Pool<DB>,
    filter: &MemberFilter,
) -> Result<i64> {
    let (clause, binds) = member_where(filter);
    let sql = format!("SELECT COUNT(*) FROM panel_members m WHERE {clause}");
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    Ok(q.fetch_one(pool).await?)
}

pub(super) async fn deactivate_member<DB: Dialect>(
    pool: &Pool<DB>,
    id: i64,
    on: NaiveDate,
    reason: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let done = sqlx::query(
        "UPDATE panel_members SET active = FALSE, left_on = $1, left_reason = $2 WHERE id = $3 AND active = TRUE",
    )
    .bind(on)
    .bind(reason)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        // Keep the first record of when and why a member left.
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM panel_members WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        return Err(match exists {
            Some(_) => StorageError::Conflict("this member has already left the panel".into()),
            None => StorageError::NotFound,
        });
    }
    let change = Change::new(
        "panel.deactivate",
        format!("member:{id}"),
        json!({ "on": on, "reason": reason }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn eligible<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    exclude_last: usize,
) -> Result<Vec<(i64, String)>> {
    let label: Option<String> = sqlx::query_scalar("SELECT label FROM rounds WHERE id = $1")
        .bind(round.0)
        .fetch_optional(pool)
        .await?;
    let label = label.ok_or(StorageError::NotFound)?;
    let recent: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM rounds WHERE label < $1 ORDER BY label DESC LIMIT $2")
            .bind(&label)
            .bind(exclude_last as i64)
            .fetch_all(pool)
            .await?;
    let mut excluded: HashSet<i64> = HashSet::new();
    for r in recent {
        let drawn: Vec<i64> =
            sqlx::query_scalar("SELECT member_id FROM panel_sample WHERE round_id = $1")
                .bind(r)
                .fetch_all(pool)
                .await?;
        excluded.extend(drawn);
    }
    let rows = sqlx::query("SELECT id, grp FROM panel_members WHERE active = TRUE ORDER BY id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("grp")?)))
        .filter(|r: &Result<(i64, String)>| {
            r.as_ref().map_or(true, |(id, _)| !excluded.contains(id))
        })
        .collect()
}

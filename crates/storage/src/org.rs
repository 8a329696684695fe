//! The organization: agencies, their units, people and the posts they hold.
//!
//! Each `pub(crate)` function is the SQL of the [`crate::Storage`] method of the same
//! name.

use crate::{
    Actor, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::{conflict_or, corrupt},
};
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    Agency, AgencyId, OrgSnapshot, Person, PersonId, Post, PostRole, Unit, UnitId,
};
use serde_json::json;
use sqlx::{Pool, Row};

const UNIT_SELECT: &str = "SELECT u.id, u.agency_id, a.name AS agency, u.name, u.kind, u.active, \
     u.retired_on FROM units u JOIN agencies a ON a.id = u.agency_id";
const POST_SELECT: &str = "SELECT p.id, p.person_id, pe.name AS person, p.unit_id, p.role, p.start_on, p.end_on \
     FROM posts p JOIN people pe ON pe.id = p.person_id";

fn unit_from<DB: Dialect>(row: &DB::Row) -> Result<Unit> {
    Ok(Unit {
        id: UnitId(row.try_get("id")?),
        agency_id: AgencyId(row.try_get("agency_id")?),
        agency: row.try_get("agency")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        active: row.try_get("active")?,
        retired_on: row.try_get("retired_on")?,
    })
}

fn post_from<DB: Dialect>(row: &DB::Row) -> Result<Post> {
    let role: String = row.try_get("role")?;
    Ok(Post {
        id: row.try_get("id")?,
        person_id: PersonId(row.try_get("person_id")?),
        person: row.try_get("person")?,
        unit_id: UnitId(row.try_get("unit_id")?),
        role: PostRole::parse(&role).ok_or_else(|| corrupt(role))?,
        start: row.try_get("start_on")?,
        end: row.try_get("end_on")?,
    })
}

pub(crate) async fn create_agency<DB: Dialect>(
    pool: &Pool<DB>,
    name: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Agency> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let id: i64 = sqlx::query_scalar("INSERT INTO agencies (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "an agency of that name exists"))?;
    let change = Change::new(
        "agency.create",
        format!("agency:{id}"),
        json!({ "name": name }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(Agency {
        id: AgencyId(id),
        name: name.to_string(),
    })
}

pub(crate) async fn agencies<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<Agency>> {
    let rows = sqlx::query("SELECT id, name FROM agencies ORDER BY name, id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Agency {
                id: AgencyId(r.try_get("id")?),
                name: r.try_get("name")?,
            })
        })
        .collect()
}

pub(crate) async fn create_unit<DB: Dialect>(
    pool: &Pool<DB>,
    agency: AgencyId,
    name: &str,
    kind: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Unit> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO units (agency_id, name, kind, active) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(agency.0)
    .bind(name)
    .bind(kind)
    .bind(true)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_or(e, "the agency already has a unit of that name"))?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{UNIT_SELECT} WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let unit = unit_from::<DB>(&row)?;
    let change = Change::new(
        "unit.create",
        format!("unit:{id}"),
        json!({ "agency_id": agency.0, "name": name, "kind": kind }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(unit)
}

pub(crate) async fn units<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<Unit>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{UNIT_SELECT} ORDER BY a.name, u.name, u.id"
    )))
    .fetch_all(pool)
    .await?;
    rows.iter().map(unit_from::<DB>).collect()
}

pub(crate) async fn set_unit_active<DB: Dialect>(
    pool: &Pool<DB>,
    unit: UnitId,
    active: bool,
    on: NaiveDate,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let before = sqlx::query("SELECT active, retired_on FROM units WHERE id = $1")
        .bind(unit.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StorageError::NotFound)?;
    let before_active: bool = before.try_get("active")?;
    let before_retired: Option<NaiveDate> = before.try_get("retired_on")?;
    // Retiring dates the retirement (a unit retired already keeps its first date);
    // bringing a unit back clears it.
    let done = sqlx::query(
        "UPDATE units SET active = $1, \
         retired_on = CASE WHEN $1 THEN NULL ELSE COALESCE(retired_on, $2) END WHERE id = $3",
    )
    .bind(active)
    .bind(on)
    .bind(unit.0)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    let change = Change::new(
        if active {
            "unit.reactivate"
        } else {
            "unit.retire"
        },
        format!("unit:{}", unit.0),
        json!({
            "before": { "active": before_active, "retired_on": before_retired },
            "after": { "active": active, "retired_on": (!active).then(|| before_retired.unwrap_or(on)) },
        }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn create_person<DB: Dialect>(
    pool: &Pool<DB>,
    name: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Person> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let id: i64 = sqlx::query_scalar("INSERT INTO people (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
    // A person's name is kept where people are; the log refers to them by id.
    let change = Change::new("person.create", format!("person:{id}"), json!({}));
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(Person {
        id: PersonId(id),
        name: name.to_string(),
    })
}

pub(crate) async fn people<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<Person>> {
    let rows = sqlx::query("SELECT id, name FROM people ORDER BY name, id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Person {
                id: PersonId(r.try_get("id")?),
                name: r.try_get("name")?,
            })
        })
        .collect()
}

pub(crate) async fn assign_post<DB: Dialect>(
    pool: &Pool<DB>,
    person: PersonId,
    unit: UnitId,
    role: PostRole,
    start: NaiveDate,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Post> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let ended: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM posts WHERE unit_id = $1 AND role = $2 AND (end_on IS NULL OR end_on > $3) ORDER BY id",
    )
    .bind(unit.0)
    .bind(role.as_str())
    .bind(start)
    .fetch_all(&mut *tx)
    .await?;
    let later: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM posts WHERE unit_id = $1 AND role = $2 AND start_on >= $3",
    )
    .bind(unit.0)
    .bind(role.as_str())
    .bind(start)
    .fetch_optional(&mut *tx)
    .await?;
    if later.is_some() {
        return Err(StorageError::Conflict(
            "a later holder of this post is already recorded".into(),
        ));
    }
    sqlx::query(
        "UPDATE posts SET end_on = $1 WHERE unit_id = $2 AND role = $3 AND (end_on IS NULL OR end_on > $1)",
    )
    .bind(start)
    .bind(unit.0)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO posts (person_id, unit_id, role, start_on) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(person.0)
    .bind(unit.0)
    .bind(role.as_str())
    .bind(start)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_or(e, "no such person or unit"))?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POST_SELECT} WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let change = Change::new(
        "post.assign",
        format!("post:{id}"),
        json!({
            "person_id": person.0, "unit_id": unit.0, "role": role.as_str(), "start": start,
            "ended_posts": ended,
        }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    post_from::<DB>(&row)
}

pub(crate) async fn posts<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<Post>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POST_SELECT} ORDER BY p.unit_id, p.role, p.start_on"
    )))
    .fetch_all(pool)
    .await?;
    rows.iter().map(post_from::<DB>).collect()
}

/// The organisation as it stands, read on a transaction's connection: what a round freezes
/// when it closes.
pub(crate) async fn snapshot<DB: Dialect>(conn: &mut DB::Connection) -> Result<OrgSnapshot> {
    let units = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{UNIT_SELECT} ORDER BY a.name, u.name, u.id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let posts = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POST_SELECT} ORDER BY p.unit_id, p.role, p.start_on"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(OrgSnapshot {
        units: units.iter().map(unit_from::<DB>).collect::<Result<_>>()?,
        posts: posts.iter().map(post_from::<DB>).collect::<Result<_>>()?,
    })
}

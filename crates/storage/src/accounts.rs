//! Accounts: users, their API tokens, and the web sessions.
//!
//! Each `pub(crate)` function is the SQL of the [`crate::Storage`] method of the same
//! name.

use crate::{
    Result, User,
    dialect::Dialect,
    sql::{conflict_or, corrupt},
};
use chrono::{DateTime, Utc};
use minping_domain::{Role, UnitId, UserId};
use sqlx::{Pool, Row};

const USER_SELECT: &str = "SELECT id, name, role, unit_id, password_hash FROM users";

fn user_from<DB: Dialect>(row: &DB::Row) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        name: row.try_get("name")?,
        role: role.parse::<Role>().map_err(corrupt)?,
        unit_id: row.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
        password_hash: row.try_get("password_hash")?,
    })
}

pub(crate) async fn create_user<DB: Dialect>(
    pool: &Pool<DB>,
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
    .fetch_one(pool)
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

pub(crate) async fn user_by_name<DB: Dialect>(pool: &Pool<DB>, name: &str) -> Result<Option<User>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE name = $1"
    )))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from::<DB>).transpose()
}

pub(crate) async fn user<DB: Dialect>(pool: &Pool<DB>, id: UserId) -> Result<Option<User>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(user_from::<DB>).transpose()
}

pub(crate) async fn add_token<DB: Dialect>(
    pool: &Pool<DB>,
    user: UserId,
    token_hash: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(user.0)
        .bind(at)
        .execute(pool)
        .await
        .map_err(|e| conflict_or(e, "token exists"))?;
    Ok(())
}

pub(crate) async fn user_by_token<DB: Dialect>(
    pool: &Pool<DB>,
    token_hash: &str,
) -> Result<Option<User>> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.role, u.unit_id, u.password_hash FROM api_tokens t \
         JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from::<DB>).transpose()
}

pub(crate) async fn load_session<DB: Dialect>(
    pool: &Pool<DB>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(pool)
            .await?,
    )
}

pub(crate) async fn save_session<DB: Dialect>(
    pool: &Pool<DB>,
    id: &str,
    data: &str,
    expires: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(id)
    .bind(data)
    .bind(expires)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn delete_session<DB: Dialect>(pool: &Pool<DB>, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

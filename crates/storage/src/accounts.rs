//! Accounts: users, their API tokens, and the web sessions.
//!
//! Each `pub(crate)` function is the SQL of the [`crate::Storage`] method of the same
//! name.

use crate::{
    Actor, Result, StorageError, User,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::{conflict_or, corrupt},
};
use chrono::{DateTime, Utc};
use minping_domain::{Role, UnitId, UserId};
use serde_json::json;
use sqlx::{Pool, Row};

const USER_SELECT: &str = "SELECT id, name, role, unit_id, password_hash, disabled_at, \
     credentials_changed_at FROM users";

fn user_from<DB: Dialect>(row: &DB::Row) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        name: row.try_get("name")?,
        role: role.parse::<Role>().map_err(corrupt)?,
        unit_id: row.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
        password_hash: row.try_get("password_hash")?,
        disabled_at: row.try_get("disabled_at")?,
        credentials_changed_at: row.try_get("credentials_changed_at")?,
    })
}

/// A token as listed: never the token, only the start of its hash to tell it by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The first 12 hex digits of the token's hash.
    pub id: String,
    /// The account it signs in as.
    pub user_id: UserId,
    /// That account's name.
    pub user: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// How many hex digits of a token's hash name it in lists.
const TOKEN_ID_LEN: usize = 12;

pub(crate) async fn create_user<DB: Dialect>(
    pool: &Pool<DB>,
    name: &str,
    role: Role,
    unit: Option<UnitId>,
    password_hash: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<User> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (name, role, unit_id, password_hash) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(unit.map(|u| u.0))
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_or(e, "a user of that name exists"))?;
    let change = Change::new(
        "user.create",
        format!("user:{id}"),
        json!({ "name": name, "role": role.as_str(), "unit_id": unit.map(|u| u.0) }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(User {
        id: UserId(id),
        name: name.to_string(),
        role,
        unit_id: unit,
        password_hash: password_hash.to_string(),
        disabled_at: None,
        credentials_changed_at: None,
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

pub(crate) async fn users<DB: Dialect>(pool: &Pool<DB>) -> Result<Vec<User>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} ORDER BY name")))
        .fetch_all(pool)
        .await?;
    rows.iter().map(user_from::<DB>).collect()
}

pub(crate) async fn set_user_disabled<DB: Dialect>(
    pool: &Pool<DB>,
    user: UserId,
    disabled: bool,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(disabled.then_some(at))
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    let change = Change::new(
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        format!("user:{}", user.0),
        json!({}),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_password<DB: Dialect>(
    pool: &Pool<DB>,
    user: UserId,
    password_hash: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, credentials_changed_at = $2 WHERE id = $3",
    )
    .bind(password_hash)
    .bind(at)
    .bind(user.0)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    // That it changed, never the hash.
    let change = Change::new("user.passwd", format!("user:{}", user.0), json!({}));
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn add_token<DB: Dialect>(
    pool: &Pool<DB>,
    user: UserId,
    token_hash: &str,
    expires: DateTime<Utc>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(at)
    .bind(expires)
    .execute(&mut *tx)
    .await
    .map_err(|e| conflict_or(e, "token exists"))?;
    let change = Change::new(
        "token.issue",
        format!("user:{}", user.0),
        json!({ "token": &token_hash[..TOKEN_ID_LEN.min(token_hash.len())], "expires_at": expires }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn tokens<DB: Dialect>(
    pool: &Pool<DB>,
    user: Option<UserId>,
) -> Result<Vec<TokenInfo>> {
    let rows = sqlx::query(
        "SELECT t.token_hash, t.user_id, u.name, t.created_at, t.expires_at FROM api_tokens t \
         JOIN users u ON u.id = t.user_id WHERE ($1 = 0 OR t.user_id = $1) \
         ORDER BY u.name, t.created_at",
    )
    .bind(user.map_or(0, |u| u.0))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let hash: String = r.try_get("token_hash")?;
            let created_at: DateTime<Utc> = r.try_get("created_at")?;
            Ok(TokenInfo {
                id: hash[..TOKEN_ID_LEN.min(hash.len())].to_string(),
                user_id: UserId(r.try_get("user_id")?),
                user: r.try_get("name")?,
                created_at,
                expires_at: r
                    .try_get::<Option<DateTime<Utc>>, _>("expires_at")?
                    .unwrap_or(created_at),
            })
        })
        .collect()
}

pub(crate) async fn revoke_tokens<DB: Dialect>(
    pool: &Pool<DB>,
    user: UserId,
    token: Option<&str>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<u64> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    // One token by the start of its hash (as listed), or all of the user's.
    let prefix = token.unwrap_or("");
    let hashes: Vec<String> = sqlx::query_scalar(
        "SELECT token_hash FROM api_tokens WHERE user_id = $1 \
         AND substr(token_hash, 1, length($2)) = $2 ORDER BY token_hash",
    )
    .bind(user.0)
    .bind(prefix)
    .fetch_all(&mut *tx)
    .await?;
    if token.is_some() && hashes.len() != 1 {
        return Err(StorageError::NotFound);
    }
    for hash in &hashes {
        sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    if !hashes.is_empty() {
        let ids: Vec<&str> = hashes
            .iter()
            .map(|h| &h[..TOKEN_ID_LEN.min(h.len())])
            .collect();
        let change = Change::new(
            "token.revoke",
            format!("user:{}", user.0),
            json!({ "tokens": ids }),
        );
        record::<DB>(&mut tx, actor, at, &change).await?;
    }
    tx.commit().await?;
    Ok(hashes.len() as u64)
}

pub(crate) async fn user_by_token<DB: Dialect>(
    pool: &Pool<DB>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    let row = sqlx::query(
        "SELECT u.id, u.name, u.role, u.unit_id, u.password_hash, u.disabled_at, \
         u.credentials_changed_at, t.expires_at \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    // Compared here, not in SQL: the two backends store times differently.
    let expires: Option<DateTime<Utc>> = row.try_get("expires_at")?;
    if expires.is_none_or(|e| e <= now) {
        return Ok(None);
    }
    user_from::<DB>(&row).map(Some)
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

//! PostgreSQL, for a city or province running several stateless app nodes.

use crate::PgStore;
use sqlx::{
    Connection, Executor,
    postgres::{PgConnectOptions, PgConnection, PgPoolOptions},
};
use std::{str::FromStr, time::Duration};

impl PgStore {
    /// Connects and applies migrations. With `schema`, everything lives in that schema
    /// (created if missing): tests use one schema each on a shared server.
    pub async fn connect(url: &str, schema: Option<&str>) -> crate::Result<Self> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            let mut conn = PgConnection::connect_with(&options).await?;
            conn.execute(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .await?;
            conn.close().await?;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        // Ballot intake writes through the shared pool (PostgreSQL keeps one buffer cache
        // for every connection).
        Ok(Self {
            intake: pool.clone(),
            pool,
            checkpointer: None,
        })
    }

    /// Drops a test schema and everything in it.
    pub async fn drop_schema(url: &str, schema: &str) -> crate::Result<()> {
        let mut conn = PgConnection::connect_with(&PgConnectOptions::from_str(url)?).await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .await?;
        Ok(())
    }
}

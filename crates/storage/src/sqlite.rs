//! SQLite, embedded: one file in the data folder, WAL journal, `synchronous = FULL` so a
//! committed ballot survives a power cut.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::{path::Path, time::Duration};

/// The SQLite store.
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> crate::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                crate::StorageError::Conflict(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

crate::sql::impl_storage!(
    SqliteStore,
    sqlx::Sqlite,
    Backend::Sqlite,
    begin = "BEGIN IMMEDIATE",
    share_lock = ""
);
crate::sql_panel::impl_panel_store!(SqliteStore, sqlx::Sqlite, begin = "BEGIN IMMEDIATE");
crate::sql_report::impl_report_store!(SqliteStore, sqlx::Sqlite, begin = "BEGIN IMMEDIATE");
crate::sql_sanction::impl_sanction_store!(SqliteStore, sqlx::Sqlite, begin = "BEGIN IMMEDIATE");

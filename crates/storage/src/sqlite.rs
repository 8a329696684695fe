//! SQLite, embedded: one file in the data folder, WAL journal, `synchronous = FULL` so a
//! committed ballot survives a power cut.

use crate::SqliteStore;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::{path::Path, time::Duration};

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> crate::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                crate::StorageError::Conflict(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        create_owner_only(path).map_err(|e| {
            crate::StorageError::Conflict(format!("cannot create {}: {e}", path.display()))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // Small pages for a new file (an existing one keeps its own): ballots land at
            // random places in their B-trees, so each one dirties a page of every index it
            // touches, and every dirty page is copied whole into the write-ahead log and
            // flushed at commit. 1 KiB pages write a quarter of the bytes of the default 4 KiB.
            .page_size(1024)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Random ballot ids (so row order tells nothing) spread each batch of inserts
            // over the whole B-tree: a bigger page cache keeps those pages in memory.
            .pragma("cache_size", "-16384")
            // Deleted rows are overwritten with zeros, not left in free pages: a rewritten
            // spent code or a purged paper entry leaves nothing for a reader of the file.
            .pragma("secure_delete", "ON");
        // Checkpoints run beside the writer instead of inside its commits (see below); the
        // automatic one stays as a backstop at 64 MiB of WAL.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _| Box::pin(wal_backstop(conn, 64)))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        // Ballot intake writes from one connection that nothing else uses. A connection's
        // page cache is dropped whenever another connection has written since its last
        // transaction, so batches taking turns over the pool's connections would each start
        // cold and read their pages back from the file.
        //
        // It also leaves checkpoints to the background task, which runs often enough to
        // keep up; it only checkpoints itself, inside a commit, if the log passes 256 MiB.
        // Its statement journals (the undo record of one multi-row INSERT) stay in memory
        // instead of spilling to a temporary file.
        let intake = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(wal_backstop(conn, 256)))
            .connect_with(options.pragma("temp_store", "memory"))
            .await?;
        let checkpointer = spawn_checkpointer(pool.clone());
        Ok(Self {
            pool,
            intake,
            checkpointer,
        })
    }
}

/// Sets the connection's automatic checkpoint to run once the log holds `mib` MiB. SQLite
/// counts it in pages, and a file keeps the page size it was created with (1 KiB now, 4 KiB
/// before), so the count is worked out from the file's own.
async fn wal_backstop(conn: &mut sqlx::SqliteConnection, mib: i64) -> Result<(), sqlx::Error> {
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA wal_autocheckpoint = {}",
        mib * 1024 * 1024 / page.max(512)
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// Copies the write-ahead log into the database five times a second from a connection of its
/// own (`PASSIVE`: it never blocks a writer), so ballot commits do not pay for checkpoints.
/// Stops when the store is dropped or the pool closed.
fn spawn_checkpointer(pool: sqlx::SqlitePool) -> Option<tokio::task::AbortHandle> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let task = runtime.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                if matches!(e, sqlx::Error::PoolClosed) {
                    break;
                }
                tracing::warn!(error = %e, "background checkpoint failed");
            }
        }
    });
    Some(task.abort_handle())
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;

    async fn autocheckpoint(pool: &sqlx::SqlitePool) -> (i64, i64) {
        let page = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(pool)
            .await
            .unwrap();
        let pages = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(pool)
            .await
            .unwrap();
        (page, pages)
    }

    #[tokio::test]
    async fn the_checkpoint_backstops_are_in_bytes_whatever_the_files_page_size() {
        let dir = tempfile::tempdir().unwrap();
        let new = SqliteStore::open(&dir.path().join("new.db")).await.unwrap();
        assert_eq!(autocheckpoint(&new.pool).await, (1024, 64 * 1024));
        assert_eq!(autocheckpoint(&new.intake).await, (1024, 256 * 1024));

        // A file created before new files got 1 KiB pages keeps its 4 KiB ones.
        let old = dir.path().join("old.db");
        let pool = sqlx::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&old)
                .create_if_missing(true),
        )
        .await
        .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let old = SqliteStore::open(&old).await.unwrap();
        assert_eq!(autocheckpoint(&old.pool).await, (4096, 16 * 1024));
        assert_eq!(autocheckpoint(&old.intake).await, (4096, 64 * 1024));
    }
}

/// Creates the database file, readable by its owner only, unless it exists. SQLite gives its
/// write-ahead log and shared-memory files the database file's permissions.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod permissions {
    use crate::SqliteStore;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn a_new_database_and_its_log_are_their_owners_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("minping.db");
        let store = SqliteStore::open(&path).await.unwrap();
        for file in ["minping.db", "minping.db-wal"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{file}: {mode:o}");
        }
        drop(store);
    }
}

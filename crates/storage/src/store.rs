//! The store: one type over either driver.

use crate::dialect::Dialect;
use sqlx::{Pool, Postgres, Sqlite};

/// A store on SQLite or PostgreSQL; opened by [`SqliteStore::open`] or [`PgStore::connect`].
pub struct Store<DB: Dialect> {
    /// The pool everything but ballot intake goes through.
    pub(crate) pool: Pool<DB>,
    /// The pool ballot intake writes through. On SQLite, one connection of its own (see
    /// [`SqliteStore::open`]); on PostgreSQL, the shared pool itself: PostgreSQL keeps one
    /// buffer cache for every connection.
    pub(crate) intake: Pool<DB>,
    /// SQLite's background checkpoints, stopped with the store.
    pub(crate) checkpointer: Option<tokio::task::AbortHandle>,
}

/// The SQLite store.
pub type SqliteStore = Store<Sqlite>;

/// The PostgreSQL store.
pub type PgStore = Store<Postgres>;

impl<DB: Dialect> Drop for Store<DB> {
    fn drop(&mut self) {
        if let Some(task) = &self.checkpointer {
            task.abort();
        }
    }
}

//! Small helpers the aggregates' SQL shares.

use crate::StorageError;

/// Bind parameters a single multi-row INSERT may carry on both backends.
pub(crate) const MAX_BINDS: usize = 30_000;

/// Stored data that does not read back as what it should be.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(what.to_string())
}

/// Unique-constraint violations become conflicts the caller can explain, and a foreign key
/// pointing nowhere a thing not found.
pub(crate) fn conflict_or(e: sqlx::Error, message: &str) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict(message.to_string())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StorageError::NotFound,
        _ => StorageError::Database(e),
    }
}

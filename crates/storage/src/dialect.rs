//! What differs between SQLite and PostgreSQL, named once: each driver's [`Dialect`].
//!
//! Everything else is written once for both, generic over `DB: Dialect`: the SQL text (in
//! the SQL both understand: `$n` parameters, `RETURNING`, `CAST(.. AS BIGINT)`), the
//! transactions and the reading of rows. Column types are chosen per backend in the
//! migrations so that the same Rust types decode from both.

use crate::Backend;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Postgres, Sqlite, Type,
    postgres::PgQueryResult, sqlite::SqliteQueryResult,
};

/// A database the store runs on: [`Sqlite`] or [`Postgres`] (sealed).
///
/// Its constants are everything the two backends do differently in the shared SQL; the one
/// other difference, which pool ballot intake writes through, is set when a store is opened
/// (see [`crate::Store`]).
///
/// Its supertraits are what that SQL needs from a driver: queries run on a connection,
/// columns found by name, and the Rust types the tables hold bound and read back. Each
/// driver proves them once, here, so generic code asks nothing of a backend but
/// `DB: Dialect`.
pub trait Dialect:
    sealed::Sealed
    + Database<Arguments: IntoArguments<Self>, QueryResult: RowsAffected>
    + Runs
    + Names
    + Stores<i64>
    + Stores<bool>
    + Stores<String>
    + Stores<NaiveDate>
    + Stores<DateTime<Utc>>
    + Stores<Vec<u8>>
    + for<'q> Binds<'q, &'q str>
    + for<'q> Binds<'q, &'q [u8]>
{
    /// Which backend this is.
    const BACKEND: Backend;

    /// How a write transaction begins.
    ///
    /// SQLite needs `BEGIN IMMEDIATE`: a deferred transaction that reads before it writes
    /// (ballot intake checks the round, a new post checks for later holders) cannot wait for
    /// the write lock once it holds a read snapshot, and fails at once with "database is
    /// locked" whenever any other write is under way. Taking the write lock up front makes it
    /// wait (`busy_timeout`) instead.
    const BEGIN_WRITE: &'static str;

    /// How a transaction that only reads, and must read every table as of one moment,
    /// begins. SQLite's deferred transaction reads one snapshot of the write-ahead log from
    /// its first read; PostgreSQL takes a new snapshot per statement unless asked.
    const BEGIN_SNAPSHOT: &'static str;

    /// Appended to the read of a round's state during ballot intake.
    ///
    /// On PostgreSQL `FOR SHARE` holds the round's row until the ballots commit, so closing
    /// the round waits for them, and ballots that read the state after the close see it
    /// closed; without it a batch could commit after the close. SQLite has one writer at a
    /// time and needs nothing.
    const SHARE_LOCK: &'static str;

    /// Run (with the round's id as `$1`) by a ballot intake transaction before it spends a
    /// code of that round or counts one of its kept conflicts: it rewrites the round's spent
    /// codes whole, and two such rewrites must not interleave, nor a further use of a code
    /// with the counting of its conflict.
    ///
    /// PostgreSQL takes an advisory lock held to the end of the transaction (ballots of the
    /// open channel still commit side by side); SQLite has one writer at a time and needs
    /// nothing.
    const SPEND_LOCK: Option<&'static str>;

    /// Run after a round closes, outside any transaction, so that what intake and double
    /// entry deleted leaves no trace in the files: old row versions of spent codes (each
    /// carrying the id of the transaction that stored a ballot), purged paper entries,
    /// resolved conflicts.
    ///
    /// PostgreSQL rewrites those tables (`VACUUM FULL`); SQLite zeroes deleted content as it
    /// goes (`secure_delete`, set on every connection) and here empties its write-ahead log.
    const COMPACT: &'static [&'static str];
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
    const SHARE_LOCK: &'static str = "";
    const SPEND_LOCK: Option<&'static str> = None;
    const COMPACT: &'static [&'static str] = &["PRAGMA wal_checkpoint(TRUNCATE)"];
}

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const SHARE_LOCK: &'static str = " FOR SHARE";
    // The two-key form: the first key names what is locked, so no other advisory lock of
    // the database can collide with it.
    const SPEND_LOCK: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(1397770324, CAST($1 AS INTEGER))");
    // A reader holding one of these tables (a long dump) makes the rewrite give up after a
    // few seconds rather than stall every query queued behind its lock.
    const COMPACT: &'static [&'static str] = &[
        "SET lock_timeout = '5s'",
        "VACUUM (FULL) spent_codes, panel_sample, paper_entries, paper_forms, code_conflicts",
        "RESET lock_timeout",
    ];
}

mod sealed {
    /// Only the two drivers the migrations are written for are dialects.
    pub trait Sealed {}
    impl Sealed for sqlx::Sqlite {}
    impl Sealed for sqlx::Postgres {}
}

// The traits below are what sqlx asks of generic code. As `where` clauses they would have
// to be repeated on every generic function and impl: where a trait is a bound, Rust takes
// its supertraits (bounds on `Self`) as given, and the bounds on their associated types, but
// not its other `where` clauses. So each bound on another type `T` is stated as a bound on
// the associated type of [`Is<T>`], an identity: `Is<T, Itself = T, Itself: Bound>` says
// `T: Bound` in a form that comes with `DB: Dialect` wherever that is written. (The
// `Itself = T` is needed: without it the compiler does not see that `Itself` is `T`.)

/// The identity on types: `Itself` is `T`. It lets a bound on `T` be stated as a bound on
/// the driver (see the comment above).
pub trait Is<T: ?Sized> {
    /// `T`.
    type Itself: ?Sized;
}

impl<D: ?Sized, T: ?Sized> Is<T> for D {
    type Itself = T;
}

/// How many rows a statement changed. Each driver's result has this as an inherent method;
/// this names it for generic code.
pub trait RowsAffected {
    /// The number of rows changed.
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

/// Queries run on a borrowed connection: a transaction's, or one taken from the pool (and
/// so on the pool itself).
pub trait Runs:
    Database
    + for<'c> Is<
        &'c mut Self::Connection,
        Itself = &'c mut Self::Connection,
        Itself: Executor<'c, Database = Self>,
    >
{
}

impl<DB: Database> Runs for DB where for<'c> &'c mut DB::Connection: Executor<'c, Database = DB> {}

/// Columns are found by name (`row.try_get("id")`), and by position (`query_scalar`).
pub trait Names:
    Database
    + for<'a> Is<&'a str, Itself = &'a str, Itself: ColumnIndex<Self::Row>>
    + Is<usize, Itself = usize, Itself: ColumnIndex<Self::Row>>
{
}

impl<DB: Database> Names for DB
where
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
}

/// A value the driver binds and reads back.
pub trait Value<DB: Database>: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> {}

impl<DB: Database, T> Value<DB> for T where
    T: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>
{
}

/// The driver binds `T` and reads it back, bare or optional (`NULL`).
pub trait Stores<T>:
    Database
    + Is<T, Itself = T, Itself: Value<Self>>
    + Is<Option<T>, Itself = Option<T>, Itself: Value<Self>>
{
}

impl<DB: Database, T> Stores<T> for DB
where
    T: Value<DB>,
    Option<T>: Value<DB>,
{
}

/// The driver binds the borrowed `T` (`&str`, `&[u8]`) for a query living `'q`, bare or
/// optional.
pub trait Binds<'q, T>:
    Database
    + Is<T, Itself = T, Itself: Encode<'q, Self> + Type<Self>>
    + Is<Option<T>, Itself = Option<T>, Itself: Encode<'q, Self> + Type<Self>>
{
}

impl<'q, DB: Database, T> Binds<'q, T> for DB
where
    T: Encode<'q, DB> + Type<DB>,
    Option<T>: Encode<'q, DB> + Type<DB>,
{
}

//! Group commit for ballot intake: every request hands its ballot to a writer task, which
//! stores whatever has queued up in a single transaction and answers each request only once
//! that transaction is durable. Under load this turns many fsyncs into one.
//!
//! SQLite takes one writer at a time, so it gets one task. PostgreSQL gets several: while
//! one batch waits for its commit to reach the disk, the next is already being inserted,
//! and the server folds their commits into one flush of its own.

use crate::{Backend, BallotRejected, NewBallot, Storage};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most ballots one transaction takes.
const MAX_BATCH: usize = 1024;

/// How many transactions may be in flight at once on each backend.
fn writers(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 4,
    }
}

/// Why a ballot was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Storage refused the ballot (round not open, code invalid or already used).
    #[error(transparent)]
    Rejected(#[from] BallotRejected),
    /// The database failed; nothing of the ballot was stored.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

struct Job {
    ballot: NewBallot,
    reply: oneshot::Sender<Result<(), WriteError>>,
}

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct BallotWriter {
    queue: mpsc::Sender<Job>,
}

impl BallotWriter {
    /// Starts the writer tasks on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Storage>) -> Self {
        let (queue, jobs) = mpsc::channel::<Job>(MAX_BATCH * 8);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..writers(store.backend()) {
            let (store, jobs) = (store.clone(), jobs.clone());
            tokio::spawn(async move {
                loop {
                    // Take what has queued up, then let the next task gather the following
                    // batch while this one commits.
                    let mut batch = Vec::with_capacity(MAX_BATCH);
                    if jobs.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
                        break;
                    }
                    commit(store.as_ref(), batch).await;
                }
            });
        }
        Self { queue }
    }

    /// Stores one ballot; returns once it is committed.
    pub async fn write(&self, ballot: NewBallot) -> Result<(), WriteError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { ballot, reply })
            .await
            .map_err(|_| WriteError::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| WriteError::Unavailable("the writer has stopped".into()))?
    }
}

/// Whether an error says the database cannot be reached at all (down, restarting, pool
/// exhausted), as opposed to one batch being refused.
fn unreachable(e: &crate::StorageError) -> bool {
    let crate::StorageError::Database(e) = e else {
        return false;
    };
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL shutting down or starting up (class 57), or the connection lost (08).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("57") || c.starts_with("08")),
        _ => false,
    }
}

async fn commit(store: &dyn Storage, jobs: Vec<Job>) {
    let (ballots, replies): (Vec<NewBallot>, Vec<_>) =
        jobs.into_iter().map(|j| (j.ballot, j.reply)).unzip();
    let started = std::time::Instant::now();
    let stored = store.insert_ballots(&ballots).await;
    // One line per transaction: `minping-bench` reads them to report how busy the writer was.
    tracing::trace!(
        ballots = ballots.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "batch stored"
    );
    match stored {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome.map_err(WriteError::Rejected));
            }
        }
        // One bad ballot must not sink the others: retry each on its own — unless the
        // database itself is out of reach, where every retry would wait out the pool's
        // timeout in turn and keep the whole queue waiting for its 503.
        Err(e) if ballots.len() > 1 && !unreachable(&e) => {
            for (ballot, reply) in ballots.iter().zip(replies) {
                let result = match store.insert_ballots(std::slice::from_ref(ballot)).await {
                    Ok(mut o) => o.pop().unwrap_or(Ok(())).map_err(WriteError::Rejected),
                    Err(e) => Err(WriteError::Unavailable(e.to_string())),
                };
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(WriteError::Unavailable(e.to_string())));
            }
        }
    }
}

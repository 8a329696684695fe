//! The audit log of staff actions: checking its chain, and reading it. Every workflow that
//! changes state records its event through storage, in the change's own transaction.

use crate::App;
use minping_domain::{
    RoundId,
    audit::{Broken, Event, Head, verify as walk},
};
use minping_storage::{AuditFilter, StorageError};

/// An intact log: its length, its head, and the heads published with rounds, each found in
/// it.
#[derive(Debug, Clone)]
pub struct Verified {
    /// How many events it holds.
    pub len: usize,
    /// Its head.
    pub head: Head,
    /// Each published round's head, as printed in its 通报.
    pub published: Vec<(RoundId, Head)>,
}

/// Walks the whole chain against its recorded head, then checks that the head each
/// published round recorded is still part of it.
pub async fn verify(app: &App) -> Result<Result<Verified, Broken>, StorageError> {
    // One snapshot: a round published meanwhile would otherwise name a head past the
    // chain that was read.
    let log = app.store().audit_log().await?;
    let chain = match walk(log.events, &log.head) {
        Ok(chain) => chain,
        Err(broken) => return Ok(Err(broken)),
    };
    if let Some((_, head)) = log.published.iter().find(|(_, h)| !chain.contains(h)) {
        return Ok(Err(Broken::Unpublished {
            printed: head.printed(),
        }));
    }
    let published = log.published;
    Ok(Ok(Verified {
        len: chain.len(),
        head: chain.head(),
        published,
    }))
}

/// How many events a page of the log shows.
pub const PAGE: i64 = 100;

/// One page of events, newest first: about one object (`round:3`) or kind (`round:`), or
/// all; before a place, to page back.
pub async fn events(
    app: &App,
    object: Option<&str>,
    before: Option<i64>,
) -> Result<Vec<Event>, StorageError> {
    app.store()
        .audit_events(&AuditFilter {
            object: object
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(String::from),
            before,
            limit: Some(PAGE),
        })
        .await
}

/// The log's head now.
pub async fn head(app: &App) -> Result<Head, StorageError> {
    app.store().audit_head().await
}

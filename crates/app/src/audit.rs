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
    let (events, recorded) = app.store().audit_log().await?;
    let chain = match walk(events, &recorded) {
        Ok(chain) => chain,
        Err(broken) => return Ok(Err(broken)),
    };
    let mut published = Vec::new();
    let mut rounds = app.store().rounds().await?;
    rounds.sort_by_key(|r| r.id);
    for round in rounds {
        let Some(head) = app.store().published_head(round.id).await? else {
            continue;
        };
        if !chain.contains(&head) {
            return Ok(Err(Broken::Unpublished {
                printed: head.printed(),
            }));
        }
        published.push((round.id, head));
    }
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

//! The audit log in the console (organizer, leader): every staff action, newest first,
//! filtered by object, with the chain's head.

use super::{Page, render};
use crate::{
    auth::{Authorized, ORGANIZER_OR_LEADER},
    error::PageError,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
};
use minping_app::audit;
use serde::Deserialize;

/// One event as the page shows it.
struct Line {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object: String,
    /// The object's kind, to filter by.
    kind: String,
    detail: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    page: Page,
    object: String,
    head_seq: i64,
    head_hash: String,
    lines: Vec<Line>,
    /// Where the next (older) page starts.
    older: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    object: String,
    #[serde(default)]
    before: Option<i64>,
}

/// `GET /console/audit?object=round:3&before=N`.
pub async fn show(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
    page: Page,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let head = audit::head(&state).await?;
    let events = audit::events(&state, Some(&q.object), q.before).await?;
    let tz = state.settings().tz();
    let older = (events.len() as i64 == audit::PAGE)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    let lines = events
        .into_iter()
        .map(|e| Line {
            at: chrono::DateTime::parse_from_rfc3339(&e.at)
                .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|_| e.at.clone()),
            kind: e
                .object
                .split_once(':')
                .map_or_else(|| e.object.clone(), |(k, _)| format!("{k}:")),
            seq: e.seq,
            actor: e.actor,
            action: page.t2("audit.action", &e.action),
            object: e.object,
            detail: e.detail.chars().take(400).collect(),
            hash: e.hash.chars().take(16).collect(),
        })
        .collect();
    render(AuditPage {
        page,
        object: q.object.trim().to_string(),
        head_seq: head.seq,
        head_hash: head.hash,
        lines,
        older,
    })
}

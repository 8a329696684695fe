//! The panel registry (定向评议名单库): import row by row, list, deactivate, export. It is
//! personal data: only the organizer reaches it.
//!
//! An import is row by row (see [`minping_domain::panel::import`]): valid rows are stored,
//! each refused row comes back with its number and reason, and a dry run stores nothing.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{
    panel::import::{self, FileError, ImportReport, SheetRow, Table},
    settings::PanelSettings,
};
use minping_storage::{Actor, Member, MemberFilter, StorageError};
use std::collections::HashSet;

/// Members per page, in the console and the API.
pub const PER_PAGE: i64 = 50;

/// The most rows one API request may carry; send larger lists in batches.
pub const MAX_ROWS: usize = 10_000;

/// Why a registry change was refused.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    /// No such member.
    #[error("not found")]
    NotFound,
    /// The file as a whole cannot be imported.
    #[error("{0}")]
    File(#[from] FileError),
    /// Too many rows in one request.
    #[error("send at most {MAX_ROWS} rows a request")]
    TooManyRows,
    /// A group filter naming no group.
    #[error("unknown group `{0}`")]
    UnknownGroup(String),
    /// A leaving reason that is not one.
    #[error("choose why the member leaves: moved, asked or other")]
    UnknownReason,
    /// `other` without saying why.
    #[error("say why in `note`")]
    NoteRequired,
    /// A note over 200 characters.
    #[error("the note may have at most 200 characters")]
    NoteTooLong,
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for PanelError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => PanelError::NotFound,
            e => PanelError::Storage(e),
        }
    }
}

impl WorkflowError for PanelError {
    fn code(&self) -> &'static str {
        match self {
            PanelError::NotFound => "not_found",
            PanelError::File(_) => "unreadable_file",
            PanelError::TooManyRows => "too_many_rows",
            PanelError::UnknownGroup(_) => "unknown_group",
            PanelError::UnknownReason => "unknown_reason",
            PanelError::NoteRequired => "note_required",
            PanelError::NoteTooLong => "note_too_long",
            PanelError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            PanelError::NotFound => ErrorKind::NotFound,
            PanelError::Storage(e) => e.kind(),
            _ => ErrorKind::Invalid,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            PanelError::TooManyRows => Some("rows".into()),
            PanelError::UnknownGroup(_) => Some("group".into()),
            PanelError::UnknownReason => Some("reason".into()),
            PanelError::NoteRequired | PanelError::NoteTooLong => Some("note".into()),
            _ => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            PanelError::File(e) => vec![("detail", e.to_string())],
            PanelError::UnknownGroup(g) => vec![("group", g.clone())],
            _ => Vec::new(),
        }
    }
}

/// Checks rows and, unless `dry_run`, stores the valid ones; a person already registered
/// (same name and phone) is refused as a duplicate.
pub async fn import_rows(
    app: &App,
    rows: Vec<SheetRow>,
    dry_run: bool,
    actor: &Actor,
) -> Result<ImportReport, PanelError> {
    let settings = app.settings();
    let checked = import::check(rows, app.today(), |g| settings.panel.group_code(g));
    let store = app.store();
    let is_new: Vec<bool> = if dry_run {
        let registered: HashSet<(String, String)> = store
            .members(&MemberFilter::default())
            .await?
            .into_iter()
            .map(|m| (m.details.name, m.details.phone))
            .collect();
        checked
            .accepted
            .iter()
            .map(|a| !registered.contains(&(a.member.name.clone(), a.member.phone.clone())))
            .collect()
    } else if checked.accepted.is_empty() {
        Vec::new()
    } else {
        store
            .add_members(&checked.members(), actor, app.now())
            .await?
            .iter()
            .map(Option::is_some)
            .collect()
    };
    Ok(checked.settle(&is_new, dry_run))
}

/// [`import_rows`] for rows sent in one API request, at most [`MAX_ROWS`] of them (a file is
/// read whole, however long).
pub async fn import_request(
    app: &App,
    rows: Vec<SheetRow>,
    dry_run: bool,
    actor: &Actor,
) -> Result<ImportReport, PanelError> {
    if rows.len() > MAX_ROWS {
        return Err(PanelError::TooManyRows);
    }
    import_rows(app, rows, dry_run, actor).await
}

/// Reads a registry file (CSV in UTF-8 or GBK, or XLSX) and imports it row by row; a file
/// that cannot be read as a whole imports nothing.
pub async fn import_file(
    app: &App,
    bytes: &[u8],
    dry_run: bool,
    actor: &Actor,
) -> Result<ImportReport, PanelError> {
    let rows = import::read_sheet(bytes)?;
    import_rows(app, rows, dry_run, actor).await
}

/// Why a member left the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// Moved away (迁出).
    Moved,
    /// Asked to be removed (本人要求退出).
    Asked,
    /// Anything else, said in a note.
    Other,
}

impl LeaveReason {
    /// Parses `moved`, `asked` or `other`.
    pub fn parse(s: &str) -> Result<Self, PanelError> {
        match s.trim() {
            "moved" => Ok(Self::Moved),
            "asked" => Ok(Self::Asked),
            "other" => Ok(Self::Other),
            _ => Err(PanelError::UnknownReason),
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Moved => "moved",
            Self::Asked => "asked",
            Self::Other => "other",
        }
    }
}

/// A stored reason (`moved`, `asked`, `other`, each optionally followed by `: note`) in
/// words.
pub fn leave_reason_text(stored: &str, en: bool) -> String {
    let (code, note) = stored
        .split_once(": ")
        .map_or((stored, ""), |(c, n)| (c, n));
    let words = match (code, en) {
        ("moved", false) => "迁出",
        ("moved", true) => "Moved away",
        ("asked", false) => "本人要求退出",
        ("asked", true) => "Asked to be removed",
        ("other", false) => "其他",
        ("other", true) => "Other",
        _ => return stored.to_string(),
    };
    match (note.is_empty(), en) {
        (true, _) => words.to_string(),
        (false, false) => format!("{words}：{note}"),
        (false, true) => format!("{words}: {note}"),
    }
}

/// Takes a member off the panel today; the member stays in the registry, inactive, with
/// the day and the reason (`moved`, `asked` or `other`; `other` needs a note).
pub async fn deactivate(
    app: &App,
    id: i64,
    reason: &str,
    note: &str,
    actor: &Actor,
) -> Result<(), PanelError> {
    let reason = LeaveReason::parse(reason)?;
    let note = note.trim();
    if reason == LeaveReason::Other && note.is_empty() {
        return Err(PanelError::NoteRequired);
    }
    if note.chars().count() > 200 {
        return Err(PanelError::NoteTooLong);
    }
    let stored = if note.is_empty() {
        reason.code().to_string()
    } else {
        format!("{}: {note}", reason.code())
    };
    app.store()
        .deactivate_member(id, app.today(), &stored, actor, app.now())
        .await?;
    Ok(())
}

/// The whole registry as a sheet: the import columns (so the file imports again), then id,
/// day added, status, day left and why.
pub async fn export(app: &App) -> Result<Table, PanelError> {
    let members = app.store().members(&MemberFilter::default()).await?;
    Ok(export_table(&members, &app.settings().panel))
}

fn export_table(members: &[Member], settings: &PanelSettings) -> Table {
    let mut header = import::member_header();
    header.extend(
        ["编号", "加入日期", "状态", "退出日期", "退出原因"]
            .into_iter()
            .map(String::from),
    );
    let rows = members
        .iter()
        .map(|m| {
            let mut cells =
                import::member_cells(&m.details, &settings.group_name_zh(&m.details.group));
            cells.push(m.id.to_string());
            cells.push(m.details.added_on.to_string());
            cells.push(if m.active { "在册" } else { "已退出" }.into());
            cells.push(m.left_on.map(|d| d.to_string()).unwrap_or_default());
            cells.push(
                m.left_reason
                    .as_deref()
                    .map(|r| leave_reason_text(r, false))
                    .unwrap_or_default(),
            );
            cells
        })
        .collect();
    Table { header, rows }
}

/// The filter of a member list, from `search`, `group` (code or name) and `active`.
pub fn member_filter(
    app: &App,
    search: Option<&str>,
    group: Option<&str>,
    active_only: bool,
) -> Result<MemberFilter, PanelError> {
    let group = match group.map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => Some(
            app.settings()
                .panel
                .group_code(g)
                .ok_or_else(|| PanelError::UnknownGroup(g.to_string()))?,
        ),
    };
    Ok(MemberFilter {
        active_only,
        group,
        search: search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
        limit: None,
        offset: 0,
    })
}

/// One page of members matching a filter, and how many match on all pages.
pub async fn members_page(
    app: &App,
    mut filter: MemberFilter,
    page: i64,
) -> Result<(i64, Vec<Member>), PanelError> {
    let total = app.store().member_count(&filter).await?;
    filter.limit = Some(PER_PAGE);
    filter.offset = (page.max(1) - 1).saturating_mul(PER_PAGE);
    Ok((total, app.store().members(&filter).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_reasons_read_in_both_languages() {
        assert_eq!(leave_reason_text("moved", false), "迁出");
        assert_eq!(leave_reason_text("asked", true), "Asked to be removed");
        assert_eq!(leave_reason_text("other: 已去世", false), "其他：已去世");
        assert_eq!(leave_reason_text("something old", true), "something old");
    }
}

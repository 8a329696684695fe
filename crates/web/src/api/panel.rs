//! The panel registry (定向评议名单库): list, import and deactivate members. It is personal
//! data: every route is the organizer's alone.
//!
//! An import is row by row (see [`minping_domain::panel::import`]): valid rows are stored,
//! each refused row comes back with its number and reason, and `dry_run` stores nothing.

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, ORGANIZER},
    error::ApiError,
    state::Shared,
};
use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::StatusCode,
};
use chrono::NaiveDate;
use minping_domain::{
    Settings,
    panel::{
        MemberDraft,
        import::{self, ImportReport, SheetRow, Table},
    },
    settings::PanelSettings,
};
use minping_storage::{Member, MemberFilter, Storage, StorageError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};

/// Members per page, in the console and the API.
pub const PER_PAGE: i64 = 50;

/// The most rows one API request may carry; send larger lists in batches.
pub const MAX_ROWS: usize = 10_000;

/// Checks rows and, unless `dry_run`, stores the valid ones; a person already registered
/// (same name and phone) is refused as a duplicate. Shared by the console, the API and the
/// command line.
pub async fn import_rows(
    store: &dyn Storage,
    settings: &Settings,
    rows: Vec<SheetRow>,
    today: NaiveDate,
    dry_run: bool,
) -> Result<ImportReport, StorageError> {
    let checked = import::check(rows, today, |g| settings.panel.group_code(g));
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
            .add_members(&checked.members())
            .await?
            .iter()
            .map(Option::is_some)
            .collect()
    };
    Ok(checked.settle(&is_new, dry_run))
}

/// Why a member left the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// Moved away (迁出).
    Moved,
    /// Asked to be removed (本人要求退出).
    Asked,
    /// Anything else; say what in `note`.
    Other,
}

impl LeaveReason {
    /// Parses `moved`, `asked` or `other`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "moved" => Some(Self::Moved),
            "asked" => Some(Self::Asked),
            "other" => Some(Self::Other),
            _ => None,
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
/// the day and the reason.
pub async fn deactivate(
    state: &crate::AppState,
    id: i64,
    reason: LeaveReason,
    note: &str,
) -> Result<(), ApiError> {
    let note = note.trim();
    if reason == LeaveReason::Other && note.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "note_required",
            "请说明原因 · say why in `note`",
        )
        .with_field("note"));
    }
    if note.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "note_too_long",
            "说明不超过200字 · the note may have at most 200 characters",
        )
        .with_field("note"));
    }
    let stored = if note.is_empty() {
        reason.code().to_string()
    } else {
        format!("{}: {note}", reason.code())
    };
    state
        .store
        .deactivate_member(id, state.today(), &stored)
        .await?;
    Ok(())
}

/// The whole registry as a sheet: the import columns (so the file imports again), then id,
/// day added, status, day left and why.
pub fn export_table(members: &[Member], settings: &PanelSettings) -> Table {
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
    settings: &PanelSettings,
    search: Option<&str>,
    group: Option<&str>,
    active_only: bool,
) -> Result<MemberFilter, ApiError> {
    let group = match group.map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => Some(settings.group_code(g).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_group",
                format!("类别“{g}”不存在 · unknown group `{g}`"),
            )
            .with_field("group")
        })?),
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

/// A query string whose rejections are API errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Which members to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Name, phone or address containing this text.
    pub search: Option<String>,
    /// Only this group (code or name).
    pub group: Option<String>,
    /// `true`: only active members; otherwise all, inactive ones included.
    pub active: Option<bool>,
    /// Page number, from 1; 50 members a page.
    pub page: Option<i64>,
}

/// A registry member.
#[derive(Serialize, ToSchema)]
pub struct MemberBody {
    /// Id.
    pub id: i64,
    /// 姓名.
    pub name: String,
    /// Group code.
    pub group: String,
    /// 地址.
    pub address: String,
    /// 邮编.
    pub postcode: String,
    /// 电话, normalised.
    pub phone: String,
    /// Units they dealt with.
    pub units: Vec<String>,
    /// Where the contact came from.
    pub source: String,
    /// Day added.
    pub added_on: NaiveDate,
    /// False once they left the panel.
    pub active: bool,
    /// Day they left.
    pub left_on: Option<NaiveDate>,
    /// Why: `moved`, `asked` or `other`, with `: note` when one was given.
    pub left_reason: Option<String>,
}

impl From<Member> for MemberBody {
    fn from(m: Member) -> Self {
        Self {
            id: m.id,
            name: m.details.name,
            group: m.details.group,
            address: m.details.address,
            postcode: m.details.postcode,
            phone: m.details.phone,
            units: m.details.units,
            source: m.details.source,
            added_on: m.details.added_on,
            active: m.active,
            left_on: m.left_on,
            left_reason: m.left_reason,
        }
    }
}

/// One page of members.
#[derive(Serialize, ToSchema)]
pub struct MemberList {
    /// Members matching the filter, all pages.
    pub total: i64,
    /// This page's number.
    pub page: i64,
    /// Members per page.
    pub per_page: i64,
    /// This page's members, by id.
    pub members: Vec<MemberBody>,
}

/// Lists registry members, 50 a page (organizer).
#[utoipa::path(get, path = "/api/v1/panel/members", security(("token" = [])), params(MemberQuery),
    responses((status = 200, body = MemberList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_members(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiQuery(q): ApiQuery<MemberQuery>,
) -> Result<Json<MemberList>, ApiError> {
    let mut filter = member_filter(
        &state.settings.panel,
        q.search.as_deref(),
        q.group.as_deref(),
        q.active == Some(true),
    )?;
    let page = q.page.unwrap_or(1).max(1);
    let total = state.store.member_count(&filter).await?;
    filter.limit = Some(PER_PAGE);
    filter.offset = (page - 1).saturating_mul(PER_PAGE);
    let members = state.store.members(&filter).await?;
    Ok(Json(MemberList {
        total,
        page,
        per_page: PER_PAGE,
        members: members.into_iter().map(MemberBody::from).collect(),
    }))
}

/// A member row as a file would hold it; every field is checked, none is required here
/// (a missing one is reported for its row).
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MemberRow {
    /// 姓名.
    pub name: String,
    /// 类别: a group's code or name.
    pub group: String,
    /// 地址.
    pub address: String,
    /// 邮编: six digits.
    pub postcode: String,
    /// 电话: a mobile or a landline with its area code.
    pub phone: String,
    /// 办理过业务的科室, separated by 、 ; or ,
    pub units: String,
    /// 来源.
    pub source: String,
}

/// Rows to import.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The rows, at most 10,000 a request.
    pub rows: Vec<MemberRow>,
    /// Check everything, store nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A refused row.
#[derive(Serialize, ToSchema)]
pub struct RejectedRow {
    /// Its position in `rows`, from 1.
    pub row: usize,
    /// Why, in Chinese and English.
    pub reason: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    /// Members added (in a dry run: that would be added).
    pub imported: usize,
    /// Whether nothing was stored.
    pub dry_run: bool,
    /// Refused rows, by row.
    pub rejected: Vec<RejectedRow>,
}

/// Imports members row by row: valid rows are stored, each refused row is reported with
/// its position and reason; a person already registered (same name and phone) is refused
/// as a duplicate, so sending the same rows twice adds nothing (organizer).
#[utoipa::path(post, path = "/api/v1/panel/members", security(("token" = [])), request_body = ImportBody,
    responses((status = 200, body = ImportResult), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_members(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Json<ImportResult>, ApiError> {
    if body.rows.len() > MAX_ROWS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_rows",
            format!("send at most {MAX_ROWS} rows a request"),
        )
        .with_field("rows"));
    }
    let rows = body
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| SheetRow {
            row: i + 1,
            draft: MemberDraft {
                name: r.name,
                group: r.group,
                address: r.address,
                postcode: r.postcode,
                phone: r.phone,
                units: r.units,
                source: r.source,
            },
        })
        .collect();
    let report = import_rows(
        state.store.as_ref(),
        &state.settings,
        rows,
        state.today(),
        body.dry_run,
    )
    .await?;
    Ok(Json(ImportResult {
        imported: report.imported,
        dry_run: report.dry_run,
        rejected: report
            .rejected
            .iter()
            .map(|r| RejectedRow {
                row: r.row,
                reason: r.reason.to_string(),
            })
            .collect(),
    }))
}

/// Why a member leaves.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateBody {
    /// `moved`, `asked` or `other`.
    pub reason: LeaveReason,
    /// Details; required with `other`.
    #[serde(default)]
    pub note: String,
}

/// Takes a member off the panel from today: they are no longer drawn, and stay listed as
/// inactive with the day and the reason (organizer).
#[utoipa::path(post, path = "/api/v1/panel/members/{id}/deactivate", security(("token" = [])), request_body = DeactivateBody,
    params(("id" = i64, Path, description = "member id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn deactivate_member(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DeactivateBody>,
) -> Result<StatusCode, ApiError> {
    deactivate(&state, id, body.reason, &body.note).await?;
    Ok(StatusCode::NO_CONTENT)
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

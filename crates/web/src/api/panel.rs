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
use minping_app::panel::{self, PER_PAGE};
use minping_domain::panel::{MemberDraft, import::SheetRow};
use minping_storage::Member;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
    fn code(self) -> &'static str {
        match self {
            Self::Moved => "moved",
            Self::Asked => "asked",
            Self::Other => "other",
        }
    }
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
    let filter = panel::member_filter(
        &state,
        q.search.as_deref(),
        q.group.as_deref(),
        q.active == Some(true),
    )?;
    let page = q.page.unwrap_or(1).max(1);
    let (total, members) = panel::members_page(&state, filter, page).await?;
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
    user: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Json<ImportResult>, ApiError> {
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
    let report = panel::import_request(&state, rows, body.dry_run, &user.actor()).await?;
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
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DeactivateBody>,
) -> Result<StatusCode, ApiError> {
    panel::deactivate(&state, id, body.reason.code(), &body.note, &user.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

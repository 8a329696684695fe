//! Agencies, units, people and posts.

use super::{ApiJson, ApiPath};
use crate::{
    auth::{Authorized, ORGANIZER, ORGANIZER_OR_LEADER},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State, http::StatusCode};
use chrono::NaiveDate;
use minping_app::org;
use minping_domain::{AgencyId, PersonId, Unit, UnitId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An evaluated unit (科室).
#[derive(Serialize, ToSchema)]
pub struct UnitBody {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The agency's name.
    pub agency: String,
    /// The agency's id.
    pub agency_id: i64,
    /// Its kind (科室 by default).
    pub kind: String,
    /// False once retired.
    pub active: bool,
}

impl From<Unit> for UnitBody {
    fn from(u: Unit) -> Self {
        Self {
            id: u.id.0,
            name: u.name,
            agency: u.agency,
            agency_id: u.agency_id.0,
            kind: u.kind,
            active: u.active,
        }
    }
}

/// Every unit, retired ones too (with `active: false`).
#[utoipa::path(get, path = "/api/v1/units", responses((status = 200, body = Vec<UnitBody>)))]
pub async fn list_units(State(state): State<Shared>) -> Result<Json<Vec<UnitBody>>, ApiError> {
    Ok(Json(
        state
            .store()
            .units()
            .await?
            .into_iter()
            .map(UnitBody::from)
            .collect(),
    ))
}

/// A unit to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// The agency it belongs to.
    pub agency_id: i64,
    /// Its name.
    pub name: String,
    /// Its kind; the deployment's default when absent.
    pub kind: Option<String>,
}

/// Adds a unit (organizer).
#[utoipa::path(post, path = "/api/v1/units", security(("token" = [])), request_body = NewUnit,
    responses((status = 201, body = UnitBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_unit(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<NewUnit>,
) -> Result<(StatusCode, Json<UnitBody>), ApiError> {
    let unit = org::create_unit(
        &state,
        AgencyId(body.agency_id),
        &body.name,
        body.kind.as_deref(),
        &user.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(unit.into())))
}

/// Whether a unit is evaluated.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetActive {
    /// False retires the unit; its history stays.
    pub active: bool,
}

/// Retires a unit or brings it back (organizer).
#[utoipa::path(post, path = "/api/v1/units/{id}/active", security(("token" = [])), request_body = SetActive,
    params(("id" = i64, Path, description = "unit id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_unit_active(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SetActive>,
) -> Result<StatusCode, ApiError> {
    org::set_unit_active(&state, UnitId(id), body.active, &user.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An agency (局/部门).
#[derive(Serialize, ToSchema)]
pub struct AgencyBody {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// Every agency.
#[utoipa::path(get, path = "/api/v1/agencies", responses((status = 200, body = Vec<AgencyBody>)))]
pub async fn list_agencies(State(state): State<Shared>) -> Result<Json<Vec<AgencyBody>>, ApiError> {
    let list = state.store().agencies().await?;
    Ok(Json(
        list.into_iter()
            .map(|a| AgencyBody {
                id: a.id.0,
                name: a.name,
            })
            .collect(),
    ))
}

/// A name for a new agency or person.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNamed {
    /// The name.
    pub name: String,
}

/// Adds an agency (organizer).
#[utoipa::path(post, path = "/api/v1/agencies", security(("token" = [])), request_body = NewNamed,
    responses((status = 201, body = AgencyBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_agency(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<NewNamed>,
) -> Result<(StatusCode, Json<AgencyBody>), ApiError> {
    let a = org::create_agency(&state, &body.name, &user.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(AgencyBody {
            id: a.id.0,
            name: a.name,
        }),
    ))
}

/// A person who holds or held a post.
#[derive(Serialize, ToSchema)]
pub struct PersonBody {
    /// Their id.
    pub id: i64,
    /// Their name.
    pub name: String,
}

/// Every person (organizer, leader).
#[utoipa::path(get, path = "/api/v1/people", security(("token" = [])), responses((status = 200, body = Vec<PersonBody>)))]
pub async fn list_people(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
) -> Result<Json<Vec<PersonBody>>, ApiError> {
    let list = state.store().people().await?;
    Ok(Json(
        list.into_iter()
            .map(|p| PersonBody {
                id: p.id.0,
                name: p.name,
            })
            .collect(),
    ))
}

/// Adds a person (organizer).
#[utoipa::path(post, path = "/api/v1/people", security(("token" = [])), request_body = NewNamed,
    responses((status = 201, body = PersonBody)))]
pub async fn create_person(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<NewNamed>,
) -> Result<(StatusCode, Json<PersonBody>), ApiError> {
    let p = org::create_person(&state, &body.name, &user.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(PersonBody {
            id: p.id.0,
            name: p.name,
        }),
    ))
}

/// A dated post: `head` (科室负责人) or `supervising_leader` (分管领导).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PostBody {
    /// Its id (ignored on creation).
    #[serde(default)]
    pub id: i64,
    /// Who.
    pub person_id: i64,
    /// Their name (ignored on creation).
    #[serde(default)]
    pub person: String,
    /// Which unit.
    pub unit_id: i64,
    /// `head` or `supervising_leader`.
    pub role: String,
    /// First day held (YYYY-MM-DD).
    pub start: NaiveDate,
    /// First day no longer held.
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

/// Every post, current and past (organizer, leader).
#[utoipa::path(get, path = "/api/v1/posts", security(("token" = [])), responses((status = 200, body = Vec<PostBody>)))]
pub async fn list_posts(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER_OR_LEADER>,
) -> Result<Json<Vec<PostBody>>, ApiError> {
    let posts = state.store().posts().await?;
    Ok(Json(
        posts
            .into_iter()
            .map(|p| PostBody {
                id: p.id,
                person_id: p.person_id.0,
                person: p.person,
                unit_id: p.unit_id.0,
                role: p.role.as_str().into(),
                start: p.start,
                end: p.end,
            })
            .collect(),
    ))
}

/// Gives a person a post from a date; whoever held it before leaves it that day (organizer).
#[utoipa::path(post, path = "/api/v1/posts", security(("token" = [])), request_body = PostBody,
    responses((status = 201, body = PostBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign_post(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiJson(body): ApiJson<PostBody>,
) -> Result<(StatusCode, Json<PostBody>), ApiError> {
    let p = org::assign_post_from(
        &state,
        PersonId(body.person_id),
        UnitId(body.unit_id),
        minping_domain::PostRole::parse(&body.role).ok_or(org::OrgError::UnknownPostRole)?,
        body.start,
        &user.actor(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(PostBody {
            id: p.id,
            person_id: p.person_id.0,
            person: p.person,
            unit_id: p.unit_id.0,
            role: p.role.as_str().into(),
            start: p.start,
            end: p.end,
        }),
    ))
}

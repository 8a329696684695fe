//! The organisation: agencies (局/部门), the units (科室) they hold, people and their dated
//! posts (科室负责人, 分管领导).

use crate::{
    App,
    error::{ErrorKind, NameError, WorkflowError, checked_name},
};
use chrono::NaiveDate;
use minping_domain::{Agency, AgencyId, Person, PersonId, Post, PostRole, Unit, UnitId};
use minping_storage::{Actor, StorageError};

/// Why a change to the organisation was refused.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// No such unit, agency or person.
    #[error("not found")]
    NotFound,
    /// A name is missing or too long.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The agency a unit is added to does not exist.
    #[error("no such agency")]
    UnknownAgency,
    /// The person or unit of a post does not exist.
    #[error("no such person or unit")]
    UnknownPersonOrUnit,
    /// A post that is neither `head` nor `supervising_leader`.
    #[error("role must be head or supervising_leader")]
    UnknownPostRole,
    /// A date that is not YYYY-MM-DD.
    #[error("a date is YYYY-MM-DD")]
    BadDate,
    /// The name is taken, or a later holder of the post is recorded.
    #[error("{0}")]
    Clash(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for OrgError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => OrgError::NotFound,
            StorageError::Conflict(m) => OrgError::Clash(m),
            e => OrgError::Storage(e),
        }
    }
}

impl WorkflowError for OrgError {
    fn code(&self) -> &'static str {
        match self {
            OrgError::NotFound => "not_found",
            OrgError::Name(e) => e.code(),
            OrgError::UnknownAgency => "unknown_agency",
            OrgError::UnknownPersonOrUnit => "unknown_person_or_unit",
            OrgError::UnknownPostRole => "unknown_post_role",
            OrgError::BadDate => "bad_date",
            OrgError::Clash(_) => "conflict",
            OrgError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            OrgError::NotFound => ErrorKind::NotFound,
            OrgError::Name(_)
            | OrgError::UnknownAgency
            | OrgError::UnknownPersonOrUnit
            | OrgError::UnknownPostRole
            | OrgError::BadDate => ErrorKind::Invalid,
            OrgError::Clash(_) => ErrorKind::Conflict,
            OrgError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            OrgError::Name(e) => e.field(),
            OrgError::UnknownAgency => Some("agency_id".into()),
            OrgError::UnknownPostRole => Some("role".into()),
            OrgError::BadDate => Some("start".into()),
            _ => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            OrgError::Clash(m) => vec![("detail", m.clone())],
            _ => Vec::new(),
        }
    }
}

/// Adds an agency; names are unique.
pub async fn create_agency(app: &App, name: &str, actor: &Actor) -> Result<Agency, OrgError> {
    Ok(app
        .store()
        .create_agency(&checked_name("name", name)?, actor, app.now())
        .await?)
}

/// Adds a unit to an agency; `kind` defaults to the deployment's (科室).
pub async fn create_unit(
    app: &App,
    agency: AgencyId,
    name: &str,
    kind: Option<&str>,
    actor: &Actor,
) -> Result<Unit, OrgError> {
    let name = checked_name("name", name)?;
    let kind = kind
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .unwrap_or(&app.settings().unit_kind);
    let kind = checked_name("kind", kind)?;
    let unit = app
        .store()
        .create_unit(agency, &name, &kind, actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::NotFound => OrgError::UnknownAgency,
            e => e.into(),
        })?;
    app.units_changed();
    Ok(unit)
}

/// Retires a unit from today (it is no longer evaluated; its history and the consequences of
/// the rounds it was listed in stay) or brings it back.
pub async fn set_unit_active(
    app: &App,
    unit: UnitId,
    active: bool,
    actor: &Actor,
) -> Result<(), OrgError> {
    app.store()
        .set_unit_active(unit, active, app.today(), actor, app.now())
        .await?;
    app.units_changed();
    Ok(())
}

/// Adds a person.
pub async fn create_person(app: &App, name: &str, actor: &Actor) -> Result<Person, OrgError> {
    Ok(app
        .store()
        .create_person(&checked_name("name", name)?, actor, app.now())
        .await?)
}

/// Gives a person a post from a date; whoever held it before leaves it that day. `role` and
/// `start` as typed: `head` or `supervising_leader`, and YYYY-MM-DD.
pub async fn assign_post(
    app: &App,
    person: PersonId,
    unit: UnitId,
    role: &str,
    start: &str,
    actor: &Actor,
) -> Result<Post, OrgError> {
    let role = PostRole::parse(role).ok_or(OrgError::UnknownPostRole)?;
    let start: NaiveDate = start.trim().parse().map_err(|_| OrgError::BadDate)?;
    assign_post_from(app, person, unit, role, start, actor).await
}

/// [`assign_post`] with the role and the day already read.
pub async fn assign_post_from(
    app: &App,
    person: PersonId,
    unit: UnitId,
    role: PostRole,
    start: NaiveDate,
    actor: &Actor,
) -> Result<Post, OrgError> {
    app.store()
        .assign_post(person, unit, role, start, actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::NotFound => OrgError::UnknownPersonOrUnit,
            e => e.into(),
        })
}

//! Who is asking: a signed-in session or an API token (`Authorization: Bearer …`), and
//! whether their role may use a route. Accounts, passwords and tokens are
//! [`minping_app::accounts`]'.

use crate::{error::ApiError, state::Shared};
use axum::{
    extract::FromRequestParts,
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use minping_app::accounts;
use minping_domain::{Role, UserId};
use minping_storage::User;
use tower_sessions::Session;

/// The session key holding the signed-in user's id.
pub const SESSION_USER: &str = "user_id";

/// The session key holding when the user signed in (microseconds since 1970).
pub const SESSION_SIGNED_IN: &str = "signed_in_at";

/// Bit of each role in an [`Authorized`] mask.
pub const fn role_bit(role: Role) -> u8 {
    match role {
        Role::Organizer => 1,
        Role::Clerk => 2,
        Role::Investigator => 4,
        Role::Inspector => 8,
        Role::Unit => 16,
        Role::Leader => 32,
    }
}

/// Every signed-in role.
pub const STAFF: u8 = 63;
/// Only the organizer.
pub const ORGANIZER: u8 = role_bit(Role::Organizer);
/// The organizer and leaders (read-only dashboards).
pub const ORGANIZER_OR_LEADER: u8 = role_bit(Role::Organizer) | role_bit(Role::Leader);
/// Who keys paper forms: clerks, and the organizer.
pub const KEYERS: u8 = role_bit(Role::Clerk) | role_bit(Role::Organizer);

/// The signed-in user, if any. A bad API token is refused rather than treated as anonymous.
pub struct CurrentUser(pub Option<User>);

/// Why a request was not let through.
pub enum AuthRejection {
    /// No valid credentials.
    Unauthenticated { api: bool, path: String },
    /// The role may not use this route.
    Forbidden { api: bool },
    /// Storage failed while checking.
    Storage(ApiError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Unauthenticated { api: true, .. } => {
                ApiError::unauthorized().into_response()
            }
            AuthRejection::Unauthenticated { api: false, path } => {
                let next: String = url_encode(&path);
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            AuthRejection::Forbidden { api: true } => ApiError::forbidden().into_response(),
            AuthRejection::Forbidden { api: false } => crate::error::PageError::new(
                StatusCode::FORBIDDEN,
                "您的角色无权访问此页面 · Your role may not open this page",
            )
            .into_response(),
            AuthRejection::Storage(e) => e.into_response(),
        }
    }
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

fn is_api(parts: &Parts) -> bool {
    parts.uri.path().starts_with("/api/")
}

impl FromRequestParts<Shared> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let user = match token {
                Some(t) => accounts::by_token(state, t)
                    .await
                    .map_err(|e| AuthRejection::Storage(e.into()))?,
                None => None,
            };
            return match user {
                Some(u) => Ok(CurrentUser(Some(u))),
                None => Err(AuthRejection::Unauthenticated {
                    api: is_api(parts),
                    path: parts.uri.path().to_string(),
                }),
            };
        }
        let Ok(session) = Session::from_request_parts(parts, state).await else {
            return Ok(CurrentUser(None));
        };
        let Ok(Some(id)) = session.get::<i64>(SESSION_USER).await else {
            return Ok(CurrentUser(None));
        };
        let user = accounts::by_id(state, UserId(id))
            .await
            .map_err(|e| AuthRejection::Storage(e.into()))?;
        // A session signed in before the password last changed has ended.
        let signed_in = session
            .get::<i64>(SESSION_SIGNED_IN)
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        let user = user.filter(|u| {
            u.credentials_changed_at
                .is_none_or(|changed| signed_in >= changed.timestamp_micros())
        });
        Ok(CurrentUser(user))
    }
}

/// Refuses any API request that carries a token we do not know, public routes included,
/// so a script with a mistyped or revoked token finds out at once.
pub async fn reject_bad_tokens(
    axum::extract::State(state): axum::extract::State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    if parts.headers.contains_key(header::AUTHORIZATION)
        && let Err(rejection) = CurrentUser::from_request_parts(&mut parts, &state).await
    {
        return rejection.into_response();
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// A signed-in user whose role is in the mask `ALLOWED` (see [`role_bit`]).
pub struct Authorized<const ALLOWED: u8>(pub User);

impl<const ALLOWED: u8> FromRequestParts<Shared> for Authorized<ALLOWED> {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let api = is_api(parts);
        let Some(user) = user else {
            let path = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            return Err(AuthRejection::Unauthenticated { api, path });
        };
        if role_bit(user.role) & ALLOWED == 0 {
            return Err(AuthRejection::Forbidden { api });
        }
        Ok(Authorized(user))
    }
}

impl<const ALLOWED: u8> Authorized<ALLOWED> {
    /// The user as an actor for the record.
    pub fn actor(&self) -> minping_storage::Actor {
        minping_storage::Actor {
            user_id: Some(self.0.id),
            name: self.0.name.clone(),
        }
    }
}

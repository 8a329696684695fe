//! Sign-in sessions, kept in minping's own database through the storage seam.

use crate::state::Shared;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{SameSite, time::Duration},
    session::{Id, Record},
    session_store::{self, SessionStore},
};

/// A [`SessionStore`] over the application's database.
#[derive(Clone)]
pub struct StorageSessionStore(pub Shared);

impl std::fmt::Debug for StorageSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageSessionStore")
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry(record: &Record) -> DateTime<Utc> {
    DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0).unwrap_or_else(Utc::now)
}

#[async_trait]
impl SessionStore for StorageSessionStore {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(record).map_err(backend)?;
        self.0
            .store()
            .save_session(&record.id.to_string(), &data, expiry(record))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data = self
            .0
            .store()
            .load_session(&id.to_string(), Utc::now())
            .await
            .map_err(backend)?;
        data.map(|d| serde_json::from_str(&d).map_err(backend))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0
            .store()
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// The session cookie's name.
pub const COOKIE: &str = "minping_session";

/// The session layer: an HttpOnly, SameSite=Lax cookie (`Secure` when the deployment says
/// so) that lapses after 8 idle hours.
pub fn layer(state: Shared) -> SessionManagerLayer<StorageSessionStore> {
    let secure = state.secure_cookies;
    SessionManagerLayer::new(StorageSessionStore(state))
        .with_name(COOKIE)
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(Duration::hours(8)))
}

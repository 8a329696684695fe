//! Staff accounts: creating them, signing in, API tokens. Passwords are hashed with argon2id;
//! tokens are stored only as their SHA-256.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use chrono::{DateTime, Utc};
use minping_domain::{Role, UnitId, UserId};
use minping_storage::{Actor, StorageError, TokenInfo, User};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock},
    time::{Duration, Instant},
};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why an account could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A sign-in name that is empty or longer than 64 characters.
    #[error("the name must have 1 to 64 characters")]
    InvalidName,
    /// A password shorter than [`MIN_PASSWORD_CHARS`].
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// A unit account without its unit.
    #[error("a unit account needs the unit it speaks for")]
    UnitRequired,
    /// A unit given for an account that is not a unit account.
    #[error("only unit accounts are bound to a unit")]
    UnitNotAllowed,
    /// No unit with that id.
    #[error("no unit with id {0}")]
    UnknownUnit(i64),
    /// The name is taken.
    #[error("an account named `{0}` exists")]
    NameTaken(String),
    /// No account of that name.
    #[error("no account named `{0}`")]
    NoSuchAccount(String),
    /// No token of the account with that id.
    #[error("no such token")]
    NoSuchToken,
    /// The account is disabled.
    #[error("the account `{0}` is disabled")]
    Disabled(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl WorkflowError for AccountError {
    fn code(&self) -> &'static str {
        match self {
            AccountError::InvalidName => "invalid_name",
            AccountError::WeakPassword => "weak_password",
            AccountError::UnitRequired => "unit_required",
            AccountError::UnitNotAllowed => "unit_not_allowed",
            AccountError::UnknownUnit(_) => "unknown_unit",
            AccountError::NameTaken(_) => "name_taken",
            AccountError::NoSuchAccount(_) | AccountError::NoSuchToken => "not_found",
            AccountError::Disabled(_) => "disabled",
            AccountError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AccountError::NameTaken(_) => ErrorKind::Conflict,
            AccountError::NoSuchAccount(_) | AccountError::NoSuchToken => ErrorKind::NotFound,
            AccountError::Disabled(_) => ErrorKind::Conflict,
            AccountError::Storage(e) => e.kind(),
            _ => ErrorKind::Invalid,
        }
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

/// Whether a password matches a stored argon2 hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// How long an API token works, from the day it is issued.
pub const TOKEN_DAYS: i64 = 90;

/// Failed sign-ins to an account name before each further one waits.
const FREE_FAILURES: u32 = 5;

/// The longest wait between sign-in attempts to one account name.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// How many account names the backoff remembers; the oldest are forgotten first.
const BACKOFF_NAMES: usize = 10_000;

/// A new API token and the hash to store for it.
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("mp_{}", hex::encode(bytes));
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn checked_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    Ok(())
}

/// Creates an account after checking the name, the password and, for a unit account, the
/// unit.
pub async fn add_user(
    app: &App,
    name: &str,
    role: Role,
    password: &str,
    unit: Option<UnitId>,
    actor: &Actor,
) -> Result<User, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AccountError::InvalidName);
    }
    checked_password(password)?;
    match (role, unit) {
        (Role::Unit, None) => return Err(AccountError::UnitRequired),
        (Role::Unit, Some(u)) if !app.store().units().await?.iter().any(|x| x.id == u) => {
            return Err(AccountError::UnknownUnit(u.0));
        }
        (r, Some(_)) if r != Role::Unit => return Err(AccountError::UnitNotAllowed),
        _ => {}
    }
    let hash = hash_off_thread(password.to_string()).await;
    app.store()
        .create_user(name, role, unit, &hash, actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::Conflict(_) => AccountError::NameTaken(name.to_string()),
            e => e.into(),
        })
}

async fn named(app: &App, name: &str) -> Result<User, AccountError> {
    app.store()
        .user_by_name(name.trim())
        .await?
        .ok_or_else(|| AccountError::NoSuchAccount(name.trim().to_string()))
}

/// Issues a new API token for the account `name`, working for [`TOKEN_DAYS`]; only its
/// hash is stored, so the token is shown this once.
pub async fn issue_token(app: &App, name: &str, actor: &Actor) -> Result<Issued, AccountError> {
    let user = named(app, name).await?;
    if user.disabled_at.is_some() {
        return Err(AccountError::Disabled(user.name));
    }
    let (token, hash) = new_token();
    let now = app.now();
    let expires_at = now + chrono::Duration::days(TOKEN_DAYS);
    app.store()
        .add_token(user.id, &hash, expires_at, actor, now)
        .await?;
    Ok(Issued { token, expires_at })
}

/// A token just issued: shown once.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The token itself.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The tokens of the account `name`, or of every account.
pub async fn tokens(app: &App, name: Option<&str>) -> Result<Vec<TokenInfo>, AccountError> {
    let user = match name {
        Some(n) => Some(named(app, n).await?.id),
        None => None,
    };
    Ok(app.store().tokens(user).await?)
}

/// Revokes one token of the account `name` (by the id its list shows) or all of them;
/// they answer 401 from this moment. Returns how many.
pub async fn revoke_tokens(
    app: &App,
    name: &str,
    token: Option<&str>,
    actor: &Actor,
) -> Result<u64, AccountError> {
    let user = named(app, name).await?;
    if token.is_some_and(|t| t.len() < 8) {
        return Err(AccountError::NoSuchToken);
    }
    app.store()
        .revoke_tokens(user.id, token, actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::NotFound => AccountError::NoSuchToken,
            e => e.into(),
        })
}

/// Disables the account `name` (its sessions and tokens stop working at once) or enables it
/// again.
pub async fn set_disabled(
    app: &App,
    name: &str,
    disabled: bool,
    actor: &Actor,
) -> Result<(), AccountError> {
    let user = named(app, name).await?;
    Ok(app
        .store()
        .set_user_disabled(user.id, disabled, actor, app.now())
        .await?)
}

/// Sets a new password for the account `name`.
pub async fn set_password(
    app: &App,
    name: &str,
    password: &str,
    actor: &Actor,
) -> Result<(), AccountError> {
    checked_password(password)?;
    let user = named(app, name).await?;
    let hash = hash_off_thread(password.to_string()).await;
    Ok(app
        .store()
        .set_password(user.id, &hash, actor, app.now())
        .await?)
}

/// Hashes on the blocking pool: argon2 takes tens of milliseconds of CPU, which would
/// stall every request sharing an async worker.
async fn hash_off_thread(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .expect("argon2 hashing does not panic")
}

/// A hash of no one's password, verified against when a name is unknown so that an unknown
/// name costs as long as a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no account has this password"))
}

/// The answer to a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The name and password match an enabled account.
    Accepted(User),
    /// They do not (or the account is disabled: the answer does not say which).
    Refused,
    /// Too many failures for this name: try again after this many seconds.
    Wait(u64),
}

/// Failed sign-ins per account name and client address: after [`FREE_FAILURES`], each attempt
/// must wait twice as long as the last, up to [`MAX_BACKOFF`]. Keyed by the pair, so that
/// someone guessing from one address does not lock the account's owner out elsewhere (the
/// address's own sign-in rate limit bounds the guessing). Kept in memory, per node.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Backoff {
    /// A bounded key: the name as an account has it (64 characters at most), and the client.
    fn key(name: &str, client: Option<std::net::IpAddr>) -> String {
        let name: String = name.trim().to_lowercase().chars().take(64).collect();
        match client {
            Some(addr) => format!("{name}|{}", minping_domain::integrity::rate_limit_key(addr)),
            None => name,
        }
    }

    /// How long `name` must still wait from `client`, if at all.
    fn wait(&self, name: &str, client: Option<std::net::IpAddr>) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (n, last) = *map.get(&Self::key(name, client))?;
        let over = n.checked_sub(FREE_FAILURES)?;
        let delay = Duration::from_secs(1u64 << over.min(10)).min(MAX_BACKOFF);
        delay.checked_sub(last.elapsed())
    }

    fn failed(&self, name: &str, client: Option<std::net::IpAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= BACKOFF_NAMES
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        let entry = map
            .entry(Self::key(name, client))
            .or_insert((0, Instant::now()));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = Instant::now();
    }

    fn succeeded(&self, name: &str, client: Option<std::net::IpAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Self::key(name, client));
    }
}

/// Signs in by name and password from `client`. Every attempt verifies one argon2 hash on
/// the blocking pool, a dummy one for an unknown name, so the answer's timing does not tell
/// which names exist; repeated failures for one name from one address back off.
pub async fn sign_in(
    app: &App,
    name: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> Result<SignIn, StorageError> {
    if let Some(wait) = app.backoff().wait(name, client) {
        return Ok(SignIn::Wait(wait.as_secs().max(1)));
    }
    let user = app.store().user_by_name(name.trim()).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let password = password.to_string();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match user {
        Some(u) if matches && u.disabled_at.is_none() => {
            app.backoff().succeeded(name, client);
            Ok(SignIn::Accepted(u))
        }
        _ => {
            app.backoff().failed(name, client);
            Ok(SignIn::Refused)
        }
    }
}

/// The enabled accounts whose password is `password` (the demo's, say), by name.
pub async fn with_password(app: &App, password: &str) -> Result<Vec<String>, StorageError> {
    let users = app.store().users().await?;
    let password = password.to_string();
    Ok(tokio::task::spawn_blocking(move || {
        users
            .into_iter()
            .filter(|u| u.disabled_at.is_none() && verify_password(&password, &u.password_hash))
            .map(|u| u.name)
            .collect()
    })
    .await
    .unwrap_or_default())
}

/// The enabled account an unexpired API token belongs to.
pub async fn by_token(app: &App, token: &str) -> Result<Option<User>, StorageError> {
    Ok(app
        .store()
        .user_by_token(&token_hash(token), app.now())
        .await?
        .filter(|u| u.disabled_at.is_none()))
}

/// The account of a session, unless it has been disabled since (its sessions end at once).
pub async fn by_id(app: &App, id: UserId) -> Result<Option<User>, StorageError> {
    Ok(app
        .store()
        .user(id)
        .await?
        .filter(|u| u.disabled_at.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_nothing_else() {
        let hash = hash_password("正确的密码");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码", &hash));
        assert!(!verify_password("错误的密码", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_stored_only_as_a_hash() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), ha);
        assert!(!ha.contains(&a));
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_each_waits() {
        let b = Backoff::default();
        let here = Some("203.0.113.7".parse().unwrap());
        let elsewhere = Some("198.51.100.9".parse().unwrap());
        for _ in 0..FREE_FAILURES {
            assert_eq!(b.wait("Organizer", here), None);
            b.failed("organizer", here);
        }
        b.failed(" ORGANIZER ", here);
        let wait = b
            .wait("organizer", here)
            .expect("a wait after six failures");
        assert!(wait <= Duration::from_secs(2));
        assert_eq!(b.wait("someone else", here), None);
        assert_eq!(
            b.wait("organizer", elsewhere),
            None,
            "the owner elsewhere signs in"
        );
        b.succeeded("organizer", here);
        assert_eq!(b.wait("organizer", here), None);
        // A name of megabytes is kept as 64 characters.
        b.failed(&"x".repeat(1 << 20), here);
        assert!(b.failures.lock().unwrap().keys().all(|k| k.len() < 200));
    }
}

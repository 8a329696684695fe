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
use minping_domain::{Role, UnitId, UserId};
use minping_storage::{StorageError, User};
use rand::RngCore;
use sha2::{Digest, Sha256};

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
            AccountError::NoSuchAccount(_) => "not_found",
            AccountError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AccountError::NameTaken(_) => ErrorKind::Conflict,
            AccountError::NoSuchAccount(_) => ErrorKind::NotFound,
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

/// Creates an account after checking the name, the password and, for a unit account, the
/// unit.
pub async fn add_user(
    app: &App,
    name: &str,
    role: Role,
    password: &str,
    unit: Option<UnitId>,
) -> Result<User, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AccountError::InvalidName);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    match (role, unit) {
        (Role::Unit, None) => return Err(AccountError::UnitRequired),
        (Role::Unit, Some(u)) if !app.store().units().await?.iter().any(|x| x.id == u) => {
            return Err(AccountError::UnknownUnit(u.0));
        }
        (r, Some(_)) if r != Role::Unit => return Err(AccountError::UnitNotAllowed),
        _ => {}
    }
    app.store()
        .create_user(name, role, unit, &hash_password(password))
        .await
        .map_err(|e| match e {
            StorageError::Conflict(_) => AccountError::NameTaken(name.to_string()),
            e => e.into(),
        })
}

/// Issues a new API token for the account `name`; only its hash is stored, so the token is
/// shown this once.
pub async fn issue_token(app: &App, name: &str) -> Result<String, AccountError> {
    let user = app
        .store()
        .user_by_name(name)
        .await?
        .ok_or_else(|| AccountError::NoSuchAccount(name.to_string()))?;
    let (token, hash) = new_token();
    app.store().add_token(user.id, &hash, app.now()).await?;
    Ok(token)
}

/// The account a name and password sign in to, if they match one.
pub async fn sign_in(app: &App, name: &str, password: &str) -> Result<Option<User>, StorageError> {
    let user = app.store().user_by_name(name.trim()).await?;
    Ok(user.filter(|u| verify_password(password, &u.password_hash)))
}

/// The account an API token belongs to.
pub async fn by_token(app: &App, token: &str) -> Result<Option<User>, StorageError> {
    app.store().user_by_token(&token_hash(token)).await
}

/// The account of a session.
pub async fn by_id(app: &App, id: UserId) -> Result<Option<User>, StorageError> {
    app.store().user(id).await
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

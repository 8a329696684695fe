//! What a workflow error says about itself. Each workflow has an error enum of its own; all
//! of them answer the same four questions, so a caller maps them in one place: the web to an
//! HTTP status and a message in the reader's language, the command line to a sentence.

use minping_storage::StorageError;

/// How a caller should treat an error. The web answers each kind with one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong; nothing was changed.
    Invalid,
    /// The thing asked for does not exist, or may not be seen by the asker.
    NotFound,
    /// The request clashes with what is stored now (a round not open, a code already used).
    Conflict,
    /// The database could not be reached; nothing was changed; the same request may work
    /// again shortly.
    Unavailable,
    /// A bug or unreadable stored data.
    Internal,
}

/// A workflow error: a stable machine code (`round_not_open`), its kind, the input field at
/// fault if there is one, and the values its message names. The code selects the translated
/// message (`error.<code>` in the web's locales); `params` fill its `%{name}` placeholders.
/// `Display` is the English sentence, for the API and the logs.
pub trait WorkflowError: std::error::Error {
    /// Stable machine code, e.g. `round_not_open`.
    fn code(&self) -> &'static str;
    /// How to treat it.
    fn kind(&self) -> ErrorKind;
    /// The input field at fault, in the API's JSON path notation (`nominations[2].unit_id`).
    fn field(&self) -> Option<String> {
        None
    }
    /// Values the message names, as `(placeholder, value)`.
    fn params(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// The error's own Chinese sentence, when the domain words it itself (a ballot's or a
    /// report's checks); otherwise the caller translates the code.
    fn message_zh(&self) -> Option<String> {
        None
    }
}

impl WorkflowError for StorageError {
    fn code(&self) -> &'static str {
        match self {
            StorageError::NotFound => "not_found",
            StorageError::Conflict(_) => "conflict",
            StorageError::Database(_) => "unavailable",
            _ => "internal",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            StorageError::NotFound => ErrorKind::NotFound,
            StorageError::Conflict(_) => ErrorKind::Conflict,
            StorageError::Database(_) => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            StorageError::Conflict(m) => vec![("detail", m.clone())],
            _ => Vec::new(),
        }
    }
}

/// A name typed into a form or sent in the API: trimmed, 1–100 characters.
pub fn checked_name(field: &'static str, value: &str) -> Result<String, NameError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(NameError { field });
    }
    Ok(v.to_string())
}

/// A name or reason that is empty or longer than 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must have 1 to 100 characters")]
pub struct NameError {
    /// The field.
    pub field: &'static str,
}

impl WorkflowError for NameError {
    fn code(&self) -> &'static str {
        "invalid_name"
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
    fn field(&self) -> Option<String> {
        Some(self.field.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_hold_one_to_a_hundred_characters() {
        assert_eq!(checked_name("name", "  殡仪馆 ").unwrap(), "殡仪馆");
        assert_eq!(checked_name("name", " ").unwrap_err().field, "name");
        assert!(checked_name("reason", &"长".repeat(101)).is_err());
        assert!(checked_name("reason", &"长".repeat(100)).is_ok());
    }
}

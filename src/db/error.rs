//! What a query function of this layer returns when it does more than run
//! one statement: a rule's refusal, or the database's own failure. HTTP
//! renders both (`http::error`); the CLI prints them.

use crate::domain::enums::name_of;
use crate::domain::refusal::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] super::PoolError),
    /// A broken invariant of the data: a bug, never the caller's fault.
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl Error {
    pub fn not_found(detail: impl Into<String>) -> Self {
        Refusal::not_found(detail).into()
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Refusal::forbidden(detail).into()
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Refusal::conflict(detail).into()
    }

    pub fn unprocessable(field: &str, message: impl Into<String>) -> Self {
        Refusal::unprocessable(field, message).into()
    }

    pub fn forbidden_transition(what: &str, from: &str, to: &str, allowed: Vec<String>) -> Self {
        Refusal::forbidden_transition(what, from, to, allowed).into()
    }

    /// Refuses the move of a `what` from `from` to `to` unless its state
    /// machine's `allowed` moves list it, naming those it lists.
    pub fn unless_allowed<S: serde::Serialize + PartialEq>(
        what: &str,
        from: &S,
        to: &S,
        allowed: &[S],
    ) -> Result<(), Self> {
        if allowed.contains(to) {
            return Ok(());
        }
        Err(Self::forbidden_transition(
            what,
            &name_of(from),
            &name_of(to),
            allowed.iter().map(name_of).collect(),
        ))
    }

    /// The record changed since the caller read it (its version moved on).
    pub fn stale() -> Self {
        Refusal::Stale.into()
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }
}

/// A constraint a statement broke, for the functions that turn one into
/// the refusal it means (a duplicate e-mail, an unknown territory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    Unique,
    ForeignKey,
}

pub fn violation(error: &diesel::result::Error) -> Option<Violation> {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Some(Violation::Unique),
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            Some(Violation::ForeignKey)
        }
        _ => None,
    }
}

//! Why a rule refuses a request: what the layers below HTTP return when the
//! caller, not the machine, is at fault. `http::error` renders each one as
//! problem+json; nothing here knows about status codes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One invalid input, named by its path in the request (`birth_date`, `members[2].role`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the invalid value is: a JSON path, a query parameter or a path segment.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A commitment that holds a plan's consent back: proposed and not yet
/// answered, or refused by its organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WaitingCommitment {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    pub status: crate::domain::CommitmentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The input is malformed or invalid; `errors` names the fields.
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The role may not do this at all.
    Forbidden { detail: String },
    /// No such record, or not in the caller's scope (the same answer).
    NotFound { detail: String },
    /// The request conflicts with the current state; retrying will not help.
    Conflict { detail: String },
    /// A request with the same `Idempotency-Key` holds it; retry later.
    InProgress { retry_after: Duration },
    /// A move the state machine does not allow, with the allowed ones.
    ForbiddenTransition {
        detail: String,
        allowed: Vec<String>,
    },
    /// The record changed since the caller read it.
    Stale,
    /// Well-formed but refused by a rule (an unknown territory, say).
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// The domain does not accept pathways on that date yet.
    DomainNotOpen {
        detail: String,
        opens_on: chrono::NaiveDate,
    },
    /// A plan cannot be consented while these commitments stand unaccepted.
    CommitmentsNotAccepted {
        detail: String,
        waiting: Vec<WaitingCommitment>,
    },
}

impl Refusal {
    pub fn invalid(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self::Invalid {
            detail: detail.into(),
            errors,
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden {
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound {
            detail: detail.into(),
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
        }
    }

    pub fn unprocessable(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable {
            detail: format!("`{field}` {message}."),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A move a state machine forbids, listing the allowed ones.
    pub fn forbidden_transition(what: &str, from: &str, to: &str, allowed: Vec<String>) -> Self {
        let listed = if allowed.is_empty() {
            "none, it is final".to_owned()
        } else {
            allowed.join(", ")
        };
        Self::ForbiddenTransition {
            detail: format!(
                "A {what} cannot go from `{from}` to `{to}`. Allowed from `{from}`: {listed}."
            ),
            allowed,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { detail, .. }
            | Self::Forbidden { detail }
            | Self::NotFound { detail }
            | Self::Conflict { detail }
            | Self::ForbiddenTransition { detail, .. }
            | Self::Unprocessable { detail, .. }
            | Self::DomainNotOpen { detail, .. }
            | Self::CommitmentsNotAccepted { detail, .. } => f.write_str(detail),
            Self::InProgress { .. } => {
                f.write_str("a request with this Idempotency-Key is running")
            }
            Self::Stale => f.write_str("the record changed since it was read"),
        }
    }
}

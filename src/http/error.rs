//! The one error type of the API and its RFC 9457 `application/problem+json` rendering.
//!
//! Handlers and extractors return [`ApiError`]. The request-context middleware
//! (`crate::http::middleware::request_context`) renders every failing response — ours
//! and actix's own — through [`ProblemDetails`], so that each one carries the
//! request id in `instance`. Internal causes are logged there, never sent.

use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::refusal::FieldError;
use crate::domain::refusal::{Refusal, WaitingCommitment};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

use crate::http::problem_types;
pub use crate::http::problem_types::ProblemType;

/// How long a client should wait before retrying when the database is unavailable.
pub const RETRY_AFTER_UNAVAILABLE: Duration = Duration::from_secs(5);

/// An RFC 9457 problem: the body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:parcours:problem:validation",
    "title": "The request is not valid",
    "status": 400,
    "detail": "The request body is not valid JSON: EOF while parsing a string at line 1 column 7.",
    "instance": "urn:request:0192f1d4-6c2e-7a53-9d0e-3c4b5a6f7e80"
}))]
pub struct ProblemDetails {
    /// A URI naming the kind of problem; stable, safe to branch on.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem, the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time and what to do about it.
    pub detail: String,
    /// The request id (`urn:request:<X-Request-Id>`), to quote when reporting the problem.
    pub instance: String,
    /// For invalid input: each invalid field and what is expected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On `/v1/auth/*`: the OAuth 2.0 error code (RFC 6749 §5.2), e.g. `invalid_grant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a refused status change (`forbidden-transition`): the statuses
    /// that are allowed from the current one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// For `domain-not-open`: the date from which the domain accepts pathways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_on: Option<chrono::NaiveDate>,
    /// For `possible-duplicate`: the persons already known who look like the
    /// one being created (`PersonCandidate`), most alike first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = candidates_schema)]
    pub candidates: Option<serde_json::Value>,
    /// For `commitments-not-accepted`: each commitment that holds the
    /// consent back, with its status (`proposed` or `refused`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitments: Vec<WaitingCommitment>,
}

/// `candidates`' schema: `PersonCandidate` is named, not imported, since
/// the module of persons answers through this one.
fn candidates_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, SchemaType, Type};
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(utoipa::openapi::Ref::from_schema_name("PersonCandidate"))
        .description(Some(
            "For `possible-duplicate`: the persons already known who look like the\n\
             one being created (`PersonCandidate`), most alike first.",
        ))
        .build()
}

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// The input is malformed or invalid (400). `errors` names the fields when known.
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No valid credentials (401). `invalid_token` is set when a bearer
    /// token was sent but refused (RFC 6750 `error="invalid_token"`).
    Unauthorized { detail: String, invalid_token: bool },
    /// Authenticated, but the role may not do this at all (403).
    Forbidden { detail: String },
    /// The caller holds a one-time password and must set a new one
    /// (`POST /v1/me/password`) before anything else (403).
    PasswordChangeRequired,
    /// No such resource, or not in the caller's scope (404).
    NotFound { detail: String },
    /// The request conflicts with the current state (409): retrying the
    /// same request will not help.
    Conflict { detail: String },
    /// A request with this `Idempotency-Key` is still running (409): retry
    /// the same request after `retry_after`.
    IdempotencyInProgress { retry_after: Duration },
    /// `If-Match` names a version that is no longer current (412).
    PreconditionFailed { detail: String },
    /// Well-formed but refused by a rule (422), e.g. an unknown territory.
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// `If-Match` is required for this change (428).
    PreconditionRequired,
    /// A refused token request, with its OAuth 2.0 error code (400 or 401).
    OAuth {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    /// Too many attempts; retry after the delay (429).
    TooManyRequests {
        detail: String,
        retry_after: Duration,
    },
    /// The route exists but not with this method (405).
    MethodNotAllowed { allowed: Option<String> },
    /// The body is larger than the configured limit (413).
    PayloadTooLarge { limit: usize },
    /// The body is not of a media type the route accepts (415).
    UnsupportedMediaType { expected: &'static str },
    /// A dependency (the database) is unavailable; retry later (503).
    Unavailable { detail: String },
    /// The domain does not accept pathways on that date yet (422).
    DomainNotOpen {
        detail: String,
        opens_on: chrono::NaiveDate,
    },
    /// A status change the state machine does not allow (409).
    ForbiddenTransition {
        detail: String,
        allowed: Vec<String>,
    },
    /// A plan's consent waits for these commitments' answers (409).
    CommitmentsNotAccepted {
        detail: String,
        waiting: Vec<WaitingCommitment>,
    },
    /// The person looks like one already known (409); resend with
    /// `confirm_new=true` if it is really someone else.
    PossibleDuplicate {
        detail: String,
        candidates: serde_json::Value,
    },
    /// A bug or an unexpected failure (500). The cause is logged, never sent.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors,
        }
    }

    /// 400 for query parameters that name a person (`given` says which
    /// were sent), or `Ok` when none was: personal data never travels in
    /// a URL, which proxies and access logs keep; `send_to` is the
    /// operation taking them in a body.
    pub fn refuse_in_url(given: &[(&str, bool)], send_to: &str) -> Result<(), Self> {
        let errors: Vec<FieldError> = given
            .iter()
            .filter(|(_, sent)| *sent)
            .map(|(field, _)| {
                let message =
                    format!("names a person: send it in the body of {send_to}, never in a URL");
                FieldError::new(*field, message)
            })
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        Err(Self::invalid(
            "Personal data does not travel in URLs (proxies and access logs keep them).",
            errors,
        ))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound {
            detail: detail.into(),
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            detail: detail.into(),
            invalid_token: false,
        }
    }

    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            detail: detail.into(),
            invalid_token: true,
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden {
            detail: detail.into(),
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
        }
    }

    /// 422 naming `field` (the wording is the domain's, [`Refusal::unprocessable`]).
    pub fn unprocessable(field: &str, message: impl Into<String>) -> Self {
        Refusal::unprocessable(field, message).into()
    }

    /// 409 for a move a state machine forbids, listing the allowed ones.
    pub fn forbidden_transition(what: &str, from: &str, to: &str, allowed: Vec<String>) -> Self {
        Refusal::forbidden_transition(what, from, to, allowed).into()
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable {
            detail: detail.into(),
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    /// The kind of problem, from the catalogue ([`problem_types`]).
    pub fn kind(&self) -> &'static ProblemType {
        match self {
            Self::BadRequest { .. } => &problem_types::VALIDATION,
            Self::Unauthorized { .. } => &problem_types::UNAUTHORIZED,
            Self::Forbidden { .. } => &problem_types::FORBIDDEN,
            Self::PasswordChangeRequired => &problem_types::PASSWORD_CHANGE_REQUIRED,
            Self::NotFound { .. } => &problem_types::NOT_FOUND,
            Self::Conflict { .. } => &problem_types::CONFLICT,
            Self::IdempotencyInProgress { .. } => &problem_types::IDEMPOTENCY_IN_PROGRESS,
            Self::PreconditionFailed { .. } => &problem_types::STALE_VERSION,
            Self::Unprocessable { .. } => &problem_types::UNPROCESSABLE,
            Self::PreconditionRequired => &problem_types::IF_MATCH_REQUIRED,
            Self::TooManyRequests { .. } => &problem_types::TOO_MANY_REQUESTS,
            Self::OAuth { .. } => &problem_types::TOKEN_REFUSED,
            Self::MethodNotAllowed { .. } => &problem_types::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => &problem_types::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => &problem_types::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable { .. } => &problem_types::UNAVAILABLE,
            Self::DomainNotOpen { .. } => &problem_types::DOMAIN_NOT_OPEN,
            Self::ForbiddenTransition { .. } => &problem_types::FORBIDDEN_TRANSITION,
            Self::PossibleDuplicate { .. } => &problem_types::POSSIBLE_DUPLICATE,
            Self::CommitmentsNotAccepted { .. } => &problem_types::COMMITMENTS_NOT_ACCEPTED,
            Self::Internal(_) => &problem_types::INTERNAL,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. }
            | Self::Unauthorized { detail, .. }
            | Self::Forbidden { detail }
            | Self::NotFound { detail }
            | Self::Conflict { detail }
            | Self::PreconditionFailed { detail }
            | Self::Unprocessable { detail, .. }
            | Self::TooManyRequests { detail, .. }
            | Self::OAuth { detail, .. }
            | Self::Unavailable { detail }
            | Self::DomainNotOpen { detail, .. }
            | Self::ForbiddenTransition { detail, .. }
            | Self::PossibleDuplicate { detail, .. }
            | Self::CommitmentsNotAccepted { detail, .. } => detail.clone(),
            Self::IdempotencyInProgress { retry_after } => format!(
                "A request with this Idempotency-Key is still being processed; send the same \
                 request again in {} s.",
                retry_after.as_secs().max(1)
            ),
            Self::PasswordChangeRequired => {
                "This login holds a one-time password: set your own with POST /v1/me/password, \
                 then log in again."
                    .to_owned()
            }
            Self::PreconditionRequired => {
                "Send If-Match with the ETag you last read, so that no change is lost.".to_owned()
            }
            Self::MethodNotAllowed { allowed: Some(allowed) } => {
                format!("This resource answers only {allowed}.")
            }
            Self::MethodNotAllowed { allowed: None } => {
                "This resource does not answer this method.".to_owned()
            }
            Self::PayloadTooLarge { limit } => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            Self::UnsupportedMediaType { expected } => {
                format!("Send the body as {expected} with a matching Content-Type header.")
            }
            Self::Internal(_) => {
                "An unexpected error occurred; it has been logged. Quote the instance when reporting it."
                    .to_owned()
            }
        }
    }

    /// The complete response for this error, naming the request in `instance`.
    pub fn to_response(&self, request_id: &str) -> HttpResponse {
        let problem = ProblemDetails {
            problem_type: self.kind().uri(),
            title: self.kind().title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            instance: instance_of(request_id),
            errors: match self {
                Self::BadRequest { errors, .. } | Self::Unprocessable { errors, .. } => {
                    errors.clone()
                }
                _ => Vec::new(),
            },
            error: match self {
                Self::OAuth { code, .. } => Some((*code).to_owned()),
                _ => None,
            },
            allowed: match self {
                Self::ForbiddenTransition { allowed, .. } => allowed.clone(),
                _ => Vec::new(),
            },
            opens_on: match self {
                Self::DomainNotOpen { opens_on, .. } => Some(*opens_on),
                _ => None,
            },
            candidates: match self {
                Self::PossibleDuplicate { candidates, .. } => Some(candidates.clone()),
                _ => None,
            },
            commitments: match self {
                Self::CommitmentsNotAccepted { waiting, .. } => waiting.clone(),
                _ => Vec::new(),
            },
        };
        let mut response = problem.to_response();
        match self {
            Self::Unavailable { .. } => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(RETRY_AFTER_UNAVAILABLE.as_secs()),
                );
            }
            Self::TooManyRequests { retry_after, .. }
            | Self::IdempotencyInProgress { retry_after } => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            Self::Unauthorized {
                detail,
                invalid_token,
            } => {
                let challenge = if *invalid_token {
                    // The description is ours, without quotes, so it is a valid header.
                    format!(
                        "Bearer realm=\"parcours\", error=\"invalid_token\", error_description=\"{}\"",
                        detail.replace('"', "'")
                    )
                } else {
                    "Bearer realm=\"parcours\"".to_owned()
                };
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
            }
            Self::MethodNotAllowed {
                allowed: Some(allowed),
            } => {
                if let Ok(value) = HeaderValue::from_str(allowed) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
            }
            _ => {}
        }
        response
    }
}

impl ProblemDetails {
    /// A problem for a failure that did not come from [`ApiError`] (a middleware's,
    /// or a plain error response): only its status is known.
    pub fn for_status(status: StatusCode, request_id: &str) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        Self {
            problem_type: "about:blank".to_owned(),
            title: reason.to_owned(),
            status: status.as_u16(),
            detail: format!("The request failed: {reason}."),
            instance: instance_of(request_id),
            errors: Vec::new(),
            error: None,
            allowed: Vec::new(),
            opens_on: None,
            candidates: None,
            commitments: Vec::new(),
        }
    }

    pub fn to_response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status)
            .content_type(PROBLEM_JSON)
            .json(self)
    }
}

pub fn instance_of(request_id: &str) -> String {
    format!("urn:request:{request_id}")
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The cause chain is for the log only; `Display` is what the log prints.
            Self::Internal(cause) => write!(f, "internal error: {cause:#}"),
            other => write!(f, "{}: {}", other.kind().title, other.detail()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } | Self::PasswordChangeRequired => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::IdempotencyInProgress { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::OAuth { status, .. } => *status,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::DomainNotOpen { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ForbiddenTransition { .. }
            | Self::PossibleDuplicate { .. }
            | Self::CommitmentsNotAccepted { .. } => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Rendered without a request id; the request-context middleware renders
    /// it again with one. This path only serves code that runs outside it.
    fn error_response(&self) -> HttpResponse {
        self.to_response("unknown")
    }
}

/// How a refused or failed request ends in its audit record: by the class
/// of its status.
impl crate::audit::record::Outcome for ApiError {
    fn outcome(&self) -> crate::domain::AuditOutcome {
        use crate::domain::AuditOutcome;
        match self.status_code() {
            StatusCode::NOT_FOUND => AuditOutcome::NotFound,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => AuditOutcome::Denied,
            status if status.is_client_error() => AuditOutcome::Invalid,
            _ => AuditOutcome::Failed,
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid { detail, errors } => Self::BadRequest { detail, errors },
            Refusal::Forbidden { detail } => Self::Forbidden { detail },
            Refusal::NotFound { detail } => Self::NotFound { detail },
            Refusal::Conflict { detail } => Self::Conflict { detail },
            Refusal::InProgress { retry_after } => Self::IdempotencyInProgress { retry_after },
            Refusal::ForbiddenTransition { detail, allowed } => {
                Self::ForbiddenTransition { detail, allowed }
            }
            Refusal::Stale => Self::PreconditionFailed {
                detail: "The resource changed since you read it. Read it again, then retry \
                         with its new ETag."
                    .to_owned(),
            },
            Refusal::Unprocessable { detail, errors } => Self::Unprocessable { detail, errors },
            Refusal::DomainNotOpen { detail, opens_on } => Self::DomainNotOpen { detail, opens_on },
            Refusal::CommitmentsNotAccepted { detail, waiting } => {
                Self::CommitmentsNotAccepted { detail, waiting }
            }
        }
    }
}

impl From<crate::db::Error> for ApiError {
    fn from(error: crate::db::Error) -> Self {
        match error {
            crate::db::Error::Refused(refusal) => refusal.into(),
            crate::db::Error::Query(error) => error.into(),
            crate::db::Error::Pool(error) => error.into(),
            crate::db::Error::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<crate::db::PoolError> for ApiError {
    fn from(error: crate::db::PoolError) -> Self {
        tracing::warn!(error = %error, "database connection unavailable");
        crate::db::pool::count_unavailable();
        Self::unavailable("The database is unavailable. Retry after the delay in Retry-After.")
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::not_found("No such resource."),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::conflict(format!(
                    "This would duplicate an existing record ({}).",
                    info.constraint_name().unwrap_or("unique key")
                ))
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                Self::Unprocessable {
                    detail: format!(
                        "This refers to a record that does not exist ({}).",
                        info.constraint_name().unwrap_or("foreign key")
                    ),
                    errors: Vec::new(),
                }
            }
            Error::DatabaseError(DatabaseErrorKind::CheckViolation, info) => Self::Unprocessable {
                detail: format!(
                    "A value breaks the rule `{}`.",
                    info.constraint_name().unwrap_or("check")
                ),
                errors: Vec::new(),
            },
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::unavailable("The change conflicted with a concurrent one; retry it.")
            }
            // The connection broke (no SQLSTATE), or the server is restarting
            // (57P01 "terminating connection…", 57P03 "the database system is
            // starting up"): the change did not happen; the client retries.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | Error::BrokenTransactionManager => {
                Self::unavailable("The database connection was lost; retry the request.")
            }
            // 57014 statement timeout, 55P03 lock timeout: the statement was
            // cancelled and its transaction rolled back.
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().starts_with("canceling statement due to") =>
            {
                Self::unavailable(
                    "The database did not answer in time (a long statement or a lock); retry \
                     the request.",
                )
            }
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().starts_with("terminating connection")
                    || info.message().starts_with("the database system is") =>
            {
                Self::unavailable("The database is restarting; retry the request.")
            }
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_says_when_to_retry() {
        let response = ApiError::unavailable("down").to_response("abc");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).unwrap(),
            &HeaderValue::from(5u64)
        );
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }

    #[test]
    fn a_lost_or_restarting_database_is_503_not_500() {
        use diesel::result::{DatabaseErrorKind, Error};
        for (kind, message) in [
            (DatabaseErrorKind::UnableToSendCommand, "connection closed"),
            (
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            (
                DatabaseErrorKind::Unknown,
                "the database system is starting up",
            ),
        ] {
            let error = ApiError::from(Error::DatabaseError(kind, Box::new(message.to_owned())));
            assert_eq!(
                error.status_code(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{message}"
            );
        }
        let other = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("syntax error".to_owned()),
        );
        assert_eq!(
            ApiError::from(other).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn internal_cause_is_not_in_the_detail() {
        let error = ApiError::internal(anyhow::anyhow!("password=hunter2 leaked"));
        assert!(!error.detail().contains("hunter2"));
        assert!(
            error.to_string().contains("hunter2"),
            "the log keeps the cause"
        );
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let error = ApiError::MethodNotAllowed {
            allowed: Some("GET".to_owned()),
        };
        let response = error.to_response("abc");
        assert_eq!(response.headers().get(header::ALLOW).unwrap(), "GET");
    }
}

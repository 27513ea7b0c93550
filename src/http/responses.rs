//! Reusable error responses of the OpenAPI document. Every error is a
//! `ProblemDetails` (`application/problem+json`); these say when each occurs.
//! The types exist only for the document: they are never built.
#![allow(dead_code)]

use utoipa::ToResponse;

use crate::http::error::ProblemDetails;

/// The input is malformed or a field is invalid: `errors` names each field
/// and what is expected.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Invalid(ProblemDetails);

/// No access token, or one that was refused (expired, tampered, unknown key,
/// deactivated account).
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String,
        description = "`Bearer realm=\"parcours\"`, with `error=\"invalid_token\"` when a token was refused."))
)]
pub struct Unauthenticated(ProblemDetails);

/// The caller's role may not do this at all.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(ProblemDetails);

/// No such resource, or not in the caller's scope (scoped records answer 404, not 403).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(ProblemDetails);

/// The request conflicts with existing data (a duplicate code, e-mail or id).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(ProblemDetails);

/// The resource changed since the ETag sent in `If-Match`: read it again.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Stale(ProblemDetails);

/// Well-formed but refused by a rule (an unknown territory or organization, say).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(ProblemDetails);

/// `If-Match` is required for this change.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct IfMatchRequired(ProblemDetails);

/// Too many attempts: wait for `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait."))
)]
pub struct TooMany(ProblemDetails);

/// The database is unavailable: retry after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait."))
)]
pub struct Unavailable(ProblemDetails);

/// The body's `Content-Type` is not one this operation reads (see its
/// request body); nothing was read.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(ProblemDetails);

/// Refused by a rule (an unknown territory or organization, say), or the
/// `Idempotency-Key` was already used for another request (`errors` names
/// `Idempotency-Key`): send a new request with a new key.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnprocessableOrKeyReused(ProblemDetails);

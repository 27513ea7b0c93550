//! Optimistic concurrency: each mutable resource carries a version; its ETag
//! is `"v<version>"`. A change must send it back in `If-Match` (428 without,
//! 412 when stale), and the UPDATE itself checks it, so that two API
//! instances cannot lose each other's updates.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use crate::http::error::ApiError;

pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The version named by `If-Match`.
pub fn required_version(req: &HttpRequest) -> Result<i32, ApiError> {
    let value = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?;
    value
        .to_str()
        .ok()
        .map(str::trim)
        .and_then(|v| v.strip_prefix("\"v"))
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::PreconditionFailed {
            detail: "If-Match must be the ETag of the resource, as last read (e.g. \"v3\")."
                .to_owned(),
        })
}

/// 412 for a version that is no longer current.
pub fn stale() -> ApiError {
    ApiError::PreconditionFailed {
        detail:
            "The resource changed since you read it. Read it again, then retry with its new ETag."
                .to_owned(),
    }
}

/// A resource with its ETag, and its `Location` (`{collection}/{id}`) when
/// it was just created.
pub fn tagged(
    status: StatusCode,
    version: i32,
    collection: &str,
    id: Uuid,
    body: impl Serialize,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, etag(version)));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("{collection}/{id}")));
    }
    response.json(body)
}

//! Optimistic concurrency: each mutable resource carries a version; its ETag
//! is `"v<version>"`. A change must send it back in `If-Match` (428 without,
//! 412 when stale), and the UPDATE itself checks it, so that two API
//! instances cannot lose each other's updates.

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{Ready, ready};
use serde::Serialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::http::error::ApiError;

pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The version of the resource the caller read, from `If-Match`: the
/// extractor of every change to a versioned resource. It documents itself
/// (`params(IfMatch)`), and an operation that takes it answers 412 and 428
/// as `crate::http` documents once for all of them. The handler asks for
/// [`IfMatch::version`] once the body is checked, so that an invalid body
/// is told before a missing version.
#[derive(Debug, Clone, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The `ETag` of the resource as last read (`"v3"`): required (428 without it); 412 when it has changed since.
    #[param(rename = "If-Match", value_type = String)]
    #[allow(dead_code)] // read through `version`
    if_match: (),
    #[param(ignore)]
    version: Result<i32, Missing>,
}

/// Why `If-Match` gave no version.
#[derive(Debug, Clone, Copy)]
enum Missing {
    Absent,
    Malformed,
}

impl IfMatch {
    /// The version named, or 428 (absent) / 412 (not an ETag of ours).
    pub fn version(&self) -> Result<i32, ApiError> {
        match self.version {
            Ok(version) => Ok(version),
            Err(Missing::Absent) => Err(ApiError::PreconditionRequired),
            Err(Missing::Malformed) => Err(ApiError::PreconditionFailed {
                detail: "If-Match must be the ETag of the resource, as last read (e.g. \"v3\")."
                    .to_owned(),
            }),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let version = match req.headers().get(header::IF_MATCH) {
            None => Err(Missing::Absent),
            Some(value) => value
                .to_str()
                .ok()
                .map(str::trim)
                .and_then(|v| v.strip_prefix("\"v"))
                .and_then(|v| v.strip_suffix('"'))
                .and_then(|v| v.parse().ok())
                .ok_or(Missing::Malformed),
        };
        ready(Ok(Self {
            if_match: (),
            version,
        }))
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

//! Security headers on every response, and CORS for the configured origins.

use actix_cors::Cors;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, header};

/// The API answers JSON only: nothing may be framed, sniffed, cached or run.
/// A handler that serves a page (`/docs`) sets its own `Content-Security-Policy`
/// and `Cache-Control`; these defaults never override a header already set.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

const DEFAULTS: [(HeaderName, &str); 7] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CONTENT_SECURITY_POLICY, API_CSP),
    (header::CACHE_CONTROL, "no-store"),
    (header::CROSS_ORIGIN_OPENER_POLICY, "same-origin"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
];

/// Adds the security headers a response does not set itself. Called by the
/// request-context middleware on every response, failures included.
pub fn add_headers(headers: &mut HeaderMap) {
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// CORS for a partner's browser front-end. With no origin configured no
/// cross-origin browser call is allowed; requests from other origins are
/// answered without CORS headers, so the browser withholds the response.
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("x-purpose"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

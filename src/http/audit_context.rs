//! The audit context of a request (who, from where, why): read from the
//! request once, by the extractor every audited handler takes.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{Ready, ready};

use crate::audit::AuditContext;
use crate::db::idempotency::Claim;
use crate::http::request_id::RequestId;

/// Printable text of at most `max` characters, or nothing.
fn bounded(value: Option<&str>, max: usize) -> Option<String> {
    let text: String = value?
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    (!text.trim().is_empty()).then_some(text)
}

/// The context of `req`.
pub fn of(req: &HttpRequest) -> AuditContext {
    // Header bytes as UTF-8: a purpose is often written in French.
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    };
    AuditContext {
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned()),
        // The peer as the socket sees it: a forwarded-for header is the
        // client's own claim.
        source_address: req.peer_addr().map(|a| a.ip().to_string()),
        user_agent: bounded(header(header::USER_AGENT.as_str()), 500),
        purpose: bounded(header("x-purpose"), 500),
        idempotency: req.extensions().get::<Claim>().cloned(),
    }
}

impl FromRequest for AuditContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(of(req)))
    }
}

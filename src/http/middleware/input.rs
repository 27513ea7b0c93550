//! Input no route may receive, refused before routing: a query string that
//! is not percent-encoded UTF-8 of allowed characters (a NUL, a
//! bidirectional override…), and an `X-Purpose` header that is not such
//! text. Each is a 400 problem naming the parameter; nothing of it is
//! echoed, and nothing of it reaches a handler or PostgreSQL.

use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::domain::values::{REFUSED_CHARACTERS, is_allowed_char};
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::check_urlencoded;
use crate::http::request_id::RequestId;

pub async fn input_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Err(error) = check(&req) {
        let id = req
            .extensions()
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default();
        let response = error.to_response(&id);
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

use actix_web::HttpMessage;

fn check(req: &ServiceRequest) -> Result<(), ApiError> {
    check_urlencoded(req.query_string().as_bytes(), Some("query"))?;
    if let Some(purpose) = req.headers().get("x-purpose") {
        let text = std::str::from_utf8(purpose.as_bytes()).ok();
        if !text.is_some_and(|t| t.chars().all(is_allowed_char)) {
            let message = format!("must be UTF-8 text without {REFUSED_CHARACTERS}");
            return Err(ApiError::invalid(
                format!("The header `X-Purpose` is not valid: {message}."),
                vec![FieldError::new("X-Purpose", message)],
            ));
        }
    }
    Ok(())
}

//! Per-request context: the request id, the request's log line, and the
//! rendering of every failure as `application/problem+json`.
//!
//! It wraps everything else, so it sees actix's own failures too (unknown
//! route, wrong method, a middleware's refusal) and gives each the same shape.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, web};
use tracing::Instrument;

use crate::http::error::{ApiError, PROBLEM_JSON, ProblemDetails};
use crate::http::middleware::security;
use crate::http::request_id::{RequestId, X_REQUEST_ID};

/// The methods each documented path answers, from the OpenAPI document: the
/// fallback service uses it to tell a wrong method (405 with `Allow`) from an
/// unknown path (404).
#[derive(Debug, Default)]
pub struct RouteTable(Vec<(ResourceDef, String)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = crate::http::methods_of(item).join(", ");
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods allowed on `path`, if some documented route matches it.
    pub fn allowed_on(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_str())
    }
}

/// What answers when no route matched: 405 when the path exists with other
/// methods, 404 otherwise.
pub async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match routes.allowed_on(req.path()) {
        Some(allowed) => ApiError::MethodNotAllowed {
            allowed: Some(allowed.to_owned()),
        },
        None => ApiError::not_found(
            "No route matches this path. The API is described at /openapi.json.",
        ),
    })
}

/// The middleware function (`actix_web::middleware::from_fn`), outermost.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = RequestId::from_header(req.headers().get(X_REQUEST_ID));
    req.extensions_mut().insert(id.clone());
    // Only the method and the route pattern are logged: paths and query
    // strings can carry personal data (a searched name).
    let span = tracing::info_span!("request", request_id = %id.as_str(), method = %req.method());

    // A panic anywhere below answers a 500 problem, never an empty reply
    // (and never takes the worker down with the connection).
    let Ok(called) = AssertUnwindSafe(next.call(req).instrument(span.clone()))
        .catch_unwind()
        .await
    else {
        // The panic's message may quote input: only its place is logged
        // (by the panic hook, `telemetry::init`).
        span.in_scope(|| tracing::error!("a request handler panicked"));
        let error = ApiError::internal(anyhow::anyhow!("a request handler panicked"));
        let mut response = error.to_response(id.as_str());
        finish(response.headers_mut(), &id);
        log(&span, None, response.status(), started);
        return Err(InternalError::from_response("a request handler panicked", response).into());
    };
    match called {
        Ok(response) => {
            let mut response = render_failure(response.map_into_boxed_body(), &id);
            finish(response.headers_mut(), &id);
            let route = response.request().match_pattern();
            log(&span, route.as_deref(), response.status(), started);
            Ok(response)
        }
        // A middleware refused the request before any handler ran (a CORS
        // preflight, say); the error's own response is replaced by ours.
        Err(error) => {
            let status = error.as_response_error().status_code();
            let mut response = foreign_failure(status, &error, &id);
            finish(response.headers_mut(), &id);
            log(&span, None, status, started);
            Err(InternalError::from_response(error.to_string(), response).into())
        }
    }
}

fn finish(headers: &mut HeaderMap, id: &RequestId) {
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        headers.insert(X_REQUEST_ID, value);
    }
    security::add_headers(headers);
}

fn log(span: &tracing::Span, route: Option<&str>, status: StatusCode, started: Instant) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            route = route.unwrap_or("<unmatched>"),
            status = status.as_u16(),
            elapsed_ms = format_args!("{elapsed_ms:.2}"),
            "request"
        )
    });
}

/// Gives a failing response its problem+json body naming the request.
fn render_failure(response: ServiceResponse<BoxBody>, id: &RequestId) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let problem = match response.response().error() {
        Some(error) => {
            if status.is_server_error() {
                // The cause goes to the log with the request id, never to the client.
                tracing::error!(request_id = %id.as_str(), status = status.as_u16(), error = %error, "request failed");
            }
            match error.as_error::<ApiError>() {
                Some(api_error) => api_error.to_response(id.as_str()),
                None => foreign_failure(status, error, id),
            }
        }
        None if is_problem(response.response()) => return response,
        None => plain_failure(status, id),
    };
    let (request, old) = response.into_parts();
    let mut new = problem;
    for (name, value) in old.headers() {
        // Keep what other middleware added (CORS headers, say), not the old body's.
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !new.headers().contains_key(name)
        {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, new)
}

/// A failure from actix or a middleware: its message is meant for clients when
/// it is a 4xx; a 5xx gets a generic one.
fn foreign_failure(status: StatusCode, error: &Error, id: &RequestId) -> HttpResponse {
    let mut problem = ProblemDetails::for_status(status, id.as_str());
    if status.is_client_error() {
        problem.detail = error.to_string();
    }
    problem.to_response()
}

/// A bare error status with no error attached.
fn plain_failure(status: StatusCode, id: &RequestId) -> HttpResponse {
    ProblemDetails::for_status(status, id.as_str()).to_response()
}

fn is_problem(response: &HttpResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_sane_client_id_and_replaces_others() {
        let kept = RequestId::from_header(Some(&HeaderValue::from_static("caf-05:batch.42_a")));
        assert_eq!(kept.as_str(), "caf-05:batch.42_a");
        for bad in ["", "a b", "<script>", "x\u{7f}"] {
            let value = HeaderValue::from_str(bad).ok();
            let id = RequestId::from_header(value.as_ref());
            assert!(
                uuid::Uuid::parse_str(id.as_str()).is_ok(),
                "{bad:?} was kept"
            );
        }
        let long = "a".repeat(129);
        let id = RequestId::from_header(Some(&HeaderValue::from_str(&long).unwrap()));
        assert_ne!(id.as_str(), long);
    }
}

//! `Idempotency-Key` on the POSTs that create case-file records (IETF
//! draft-ietf-httpapi-idempotency-key-header): a retry with the same key
//! gets the first response again (`Idempotent-Replayed: true`) instead of a
//! second record. The same key with another request is 422; a retry while
//! the first request still runs is 409 `idempotency-in-progress` with
//! `Retry-After`. The claim is a lease (`PARCOURS_IDEMPOTENCY_LEASE_SECS`),
//! so a request that died frees its key; the write's own transaction marks
//! the key committed (`audit::record::changed`), so a retry whose response
//! was lost is sent to the committed outcome (303 See Other) instead of
//! running twice. Keys belong to the caller and
//! expire (`PARCOURS_IDEMPOTENCY_TTL_SECS`, a day by default). Partner
//! clients must send one.
//!
//! Not covered: token, account and secret endpoints (their responses hold
//! secrets that must not be stored).

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage, HttpResponse};
use std::panic::AssertUnwindSafe;

use chrono::Utc;
use futures_util::FutureExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::record::record;
use crate::audit::{Actor, Entry};
use crate::auth::{AuthContext, Principal};
use crate::db::idempotency::{self, Claim, Claimed, Seen, Stored};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::{AuditOutcome, Role};
use crate::http::caller::bearer_token;
use crate::http::error::ApiError;
use crate::http::request_id::RequestId;
use crate::http::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// Paths whose POSTs take a key.
const COVERED: &[&str] = &[
    "/v1/persons",
    "/v1/pathways",
    "/v1/plans",
    "/v1/referrals",
    "/v1/decisions",
    "/v1/facility-follow-ups",
    "/v1/escalations",
    "/v1/meetings",
];

/// POSTs under them that change nothing (a search in a body): nothing to
/// make idempotent, and no answer of personal data to keep.
const READS: &[&str] = &["/v1/persons/search"];

/// Whether a POST to `path` takes an `Idempotency-Key` (the middleware and
/// the document ask this one question).
pub fn covers(path: &str) -> bool {
    COVERED.iter().any(|prefix| path.starts_with(prefix)) && !READS.contains(&path)
}

fn covered(req: &ServiceRequest) -> bool {
    req.method() == Method::POST && covers(req.path())
}

/// The key as sent: a structured-field string (`"…"`) or a bare token,
/// 1 to 255 visible ASCII characters.
fn parse_key(value: &header::HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?.trim();
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let valid = (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    valid.then(|| key.to_owned())
}

/// Which requests must carry a key, by the caller's role.
fn required_for(role: Role) -> bool {
    crate::auth::policy::idempotency_key_required(role)
}

/// What a stored response would wrongly answer to a retry: refusals that
/// depend on the moment (authentication, rate, availability) and failures.
fn worth_storing(status: StatusCode) -> bool {
    !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        ))
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !covered(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    let refuse = |req: ServiceRequest, error: ApiError| {
        let response = error.to_response(&request_id);
        Ok(req.into_response(response))
    };
    // Without a valid token the handler answers 401; nothing to remember.
    let auth = req.app_data::<web::Data<AuthContext>>().cloned();
    let claims = match (auth, bearer_token(req.request())) {
        (Some(auth), Ok(token)) => auth.tokens.verify(&token).ok(),
        _ => None,
    };
    let Some(claims) = claims else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match req.headers().get(IDEMPOTENCY_KEY) {
        None if required_for(claims.role) => {
            return refuse(
                req,
                ApiError::bad_request(
                    "Partner clients must send an Idempotency-Key header (a unique value per \
                     request, such as a UUID), and the same one when they retry.",
                ),
            );
        }
        None => return Ok(next.call(req).await?.map_into_boxed_body()),
        Some(value) => match parse_key(value) {
            Some(key) => key,
            None => {
                return refuse(
                    req,
                    ApiError::bad_request(
                        "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. \"8e03978e-40d5-43e8-bc93-6894a57f9324\".",
                    ),
                );
            }
        },
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = req.extract::<Bytes>().await?;
    let mut digest = Sha256::new();
    digest.update(req.method().as_str());
    digest.update([0]);
    digest.update(req.uri().to_string());
    digest.update([0]);
    digest.update(&body);
    let fingerprint = digest.finalize().to_vec();
    req.set_payload(Payload::from(body));

    let subject = claims.sub;
    let expires_at = Utc::now() + state.idempotency_ttl;
    let lease = state.idempotency_lease;
    let claimed = async {
        let mut conn = state.pool.get().await?;
        Ok::<_, ApiError>(
            idempotency::claim(
                &mut conn,
                subject,
                &key,
                &fingerprint,
                expires_at,
                lease.as_secs_f64(),
            )
            .await?,
        )
    }
    .await;
    let seen = match claimed {
        Err(error) => return refuse(req, error),
        Ok(Claimed::Run(claim)) => return run(req, next, &state, claim).await,
        Ok(Claimed::Seen(seen)) => seen,
    };
    if seen.fingerprint != fingerprint {
        return refuse(
            req,
            ApiError::unprocessable(
                "Idempotency-Key",
                "was already used for another request; use a new key for a new request",
            ),
        );
    }
    let principal = Principal::from_claims(claims);
    let stored = seen
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok());
    match (stored, &seen.committed_at) {
        (Some(status), _) => {
            // A stored response may hold personal data: answering it
            // again is a read, recorded before it is answered.
            if let Err(error) = record_replay(&state, &req, &principal, status, &seen).await {
                return refuse(req, error);
            }
            let mut response = HttpResponse::build(status);
            response.insert_header((REPLAYED, "true"));
            for (name, value) in [
                (header::CONTENT_TYPE, &seen.content_type),
                (header::LOCATION, &seen.location),
                (header::ETAG, &seen.etag),
            ] {
                if let Some(value) = value {
                    response.insert_header((name, value.as_str()));
                }
            }
            let body = seen.body.unwrap_or_default();
            let body = match seen.content_type.as_deref() {
                Some(crate::http::error::PROBLEM_JSON) => with_instance(&body, &request_id),
                _ => body,
            };
            Ok(req.into_response(response.body(body)))
        }
        // Committed, its holder still finishing (storing the response):
        // the response is on its way.
        (None, Some(_)) if seen.claimed_until > Utc::now() => refuse(req, in_progress(&seen)),
        // Committed, but its response was lost (a crash, a failed store):
        // RFC 9110 §15.4.4, the operation completed; read its outcome there.
        (None, Some(_)) => match committed_outcome(&state, &seen).await {
            Ok(location) => {
                if let Err(error) =
                    record_replay(&state, &req, &principal, StatusCode::SEE_OTHER, &seen).await
                {
                    return refuse(req, error);
                }
                let mut response = HttpResponse::SeeOther();
                response.insert_header((REPLAYED, "true"));
                if let Some(location) = location {
                    response.insert_header((header::LOCATION, location));
                }
                Ok(req.into_response(response.finish()))
            }
            Err(error) => refuse(req, error),
        },
        (None, None) => refuse(req, in_progress(&seen)),
    }
}

/// 409 `idempotency-in-progress`, to retry when the holder's lease ends.
fn in_progress(seen: &Seen) -> ApiError {
    let left = (seen.claimed_until - Utc::now())
        .to_std()
        .unwrap_or_default()
        .max(std::time::Duration::from_secs(1));
    ApiError::IdempotencyInProgress { retry_after: left }
}

/// Runs the request holding `claim`, then stores its response for the
/// retries, or releases the key when a retry should run again. A panic in
/// the handler releases the key too, then goes on unwinding (the request
/// context answers it with a 500 problem).
async fn run(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
    claim: Claim,
) -> Result<ServiceResponse<BoxBody>, Error> {
    req.extensions_mut().insert(claim.clone());
    let outcome = AssertUnwindSafe(next.call(req)).catch_unwind().await;
    match outcome {
        Ok(response) => remember(state, &claim, response?.map_into_boxed_body()).await,
        Err(panic) => {
            forget(state, &claim).await;
            std::panic::resume_unwind(panic)
        }
    }
}

async fn forget(state: &AppState, claim: &Claim) {
    let released = async {
        let mut conn = state.pool.get().await?;
        idempotency::release(&mut conn, claim).await?;
        Ok::<_, ApiError>(())
    };
    if let Err(error) = released.await {
        tracing::warn!(error = ?error, "could not release an Idempotency-Key");
        settle_later(state, claim.clone());
    }
}

/// How often a claim left unsettled is tried again.
const SETTLE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Settles, in the background, the claim of a request whose outcome this
/// process knows but could not write (the database was away when it
/// answered, typically a 503 that invites a retry): the key is freed if
/// nothing committed, else its lease ends and a retry reads the outcome.
/// Tried until it lands or the lease would have run out anyway, so a retry
/// sent once the database is back is not held off by its own key; only a
/// request whose fate is unknown (the process died) keeps its lease.
fn settle_later(state: &AppState, claim: Claim) {
    let pool = state.pool.clone();
    let until = tokio::time::Instant::now() + state.idempotency_lease;
    tokio::spawn(async move {
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(SETTLE_EVERY).await;
            let settled = async {
                let mut conn = pool.get().await?;
                idempotency::release(&mut conn, &claim).await?;
                idempotency::end_lease(&mut conn, &claim).await?;
                Ok::<_, ApiError>(())
            };
            if settled.await.is_ok() {
                return;
            }
        }
    });
}

/// Where the committed outcome of a lost response can be read.
async fn committed_outcome(state: &AppState, seen: &Seen) -> Result<Option<String>, ApiError> {
    let (Some(kind), Some(id)) = (&seen.resource_type, seen.resource_id) else {
        return Ok(None);
    };
    let mut conn = state.pool.get().await?;
    Ok(idempotency::location_of(&mut conn, kind, id).await?)
}

/// A stored problem, naming this request (the replay) as its instance.
fn with_instance(body: &[u8], request_id: &str) -> Vec<u8> {
    let Ok(mut problem) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    if let Some(instance) = problem.get_mut("instance") {
        *instance = serde_json::Value::String(crate::http::error::instance_of(request_id));
    }
    serde_json::to_vec(&problem).unwrap_or_else(|_| body.to_vec())
}

/// The audit record of a replay: who was answered which stored response
/// (the created resource, from its `Location`).
async fn record_replay(
    state: &AppState,
    req: &ServiceRequest,
    who: &Principal,
    status: StatusCode,
    seen: &Seen,
) -> Result<(), ApiError> {
    let created = seen
        .location
        .as_deref()
        .and_then(|location| location.rsplit('/').next())
        .and_then(|id| Uuid::parse_str(id).ok());
    let mut entry = Entry::new(AuditAction::Replay, AuditOutcome::Success)
        .on(AuditTarget::IdempotentResponse, created);
    entry.query = Some(serde_json::json!({
        "method": req.method().as_str(),
        "path": req.path(),
        "status": status.as_u16(),
    }));
    let mut conn = state.pool.get().await?;
    record(
        &mut conn,
        &crate::http::audit_context::of(req.request()),
        Actor::Principal(who),
        entry,
    )
    .await?;
    Ok(())
}

/// Stores the response for the retries (or forgets the key when a retry
/// should run again), and answers it.
async fn remember(
    state: &AppState,
    claim: &Claim,
    response: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let status = response.status();
    // An error is rendered here, with the request id, as the request
    // context would: the stored body is the one the client got.
    let rendered = response.response().error().and_then(|error| {
        let id = response
            .request()
            .extensions()
            .get::<RequestId>()
            .cloned()?;
        Some(error.as_error::<ApiError>()?.to_response(id.as_str()))
    });
    let (req, res) = response.into_parts();
    let (head, body) = match rendered {
        Some(problem) => {
            let (mut head, body) = problem.into_parts();
            for (name, value) in res.headers() {
                if !head.headers().contains_key(name) {
                    head.headers_mut().append(name.clone(), value.clone());
                }
            }
            (head, body)
        }
        None => res.into_parts(),
    };
    let bytes = to_bytes(body).await.unwrap_or_default();
    let text = |name: header::HeaderName| {
        head.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (content_type, location, etag) = (
        text(header::CONTENT_TYPE),
        text(header::LOCATION),
        text(header::ETAG),
    );
    let saved = async {
        let mut conn = state.pool.get().await?;
        if worth_storing(status) {
            let stored = Stored {
                status: status.as_u16() as i16,
                content_type: content_type.as_deref(),
                location: location.as_deref(),
                etag: etag.as_deref(),
                body: &bytes,
            };
            idempotency::store(&mut conn, claim, &stored).await?;
        } else {
            idempotency::release(&mut conn, claim).await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(error) = saved {
        // The change (if any) committed with its mark on the key: once the
        // lease ends (now, or when it runs out if the database is away) a
        // retry is sent to its outcome (303), and never makes a second change.
        tracing::warn!(error = ?error, "could not store an idempotent response");
        let ended = async {
            let mut conn = state.pool.get().await?;
            idempotency::end_lease(&mut conn, claim).await?;
            Ok::<_, ApiError>(())
        };
        if let Err(error) = ended.await {
            tracing::warn!(error = ?error, "could not end an Idempotency-Key's lease");
            settle_later(state, claim.clone());
        }
    }
    let res = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(req, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_strings_or_tokens_of_visible_ascii() {
        let parse = |s: &'static str| parse_key(&header::HeaderValue::from_static(s));
        assert_eq!(parse("\"abc-123\"").as_deref(), Some("abc-123"));
        assert_eq!(parse("abc-123").as_deref(), Some("abc-123"));
        assert_eq!(parse("\"\""), None);
        assert_eq!(parse("a b"), None);
    }

    #[test]
    fn momentary_refusals_and_failures_are_not_replayed() {
        assert!(worth_storing(StatusCode::CREATED));
        assert!(worth_storing(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(worth_storing(StatusCode::CONFLICT));
        assert!(!worth_storing(StatusCode::UNAUTHORIZED));
        assert!(!worth_storing(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!worth_storing(StatusCode::INTERNAL_SERVER_ERROR));
    }
}

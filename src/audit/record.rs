//! Writing audit records: the request's context (who, from where, why) and
//! what was done. A handler that cannot write its record fails, so no
//! audited access succeeds unrecorded.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use diesel_async::AsyncPgConnection;
use futures_util::future::{Ready, ready};
use uuid::Uuid;

use crate::auth::{Principal, principal::Subject};
use crate::db::audit::{self, NewRecord};
use crate::db::idempotency::{self, Claim};
use crate::domain::AuditOutcome;
use crate::error::ApiError;
use crate::middleware::request_context::RequestId;

/// Where a request came from and why (`X-Purpose`), for its audit records.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub request_id: Option<String>,
    pub source_address: Option<String>,
    pub user_agent: Option<String>,
    pub purpose: Option<String>,
    /// The `Idempotency-Key` claim the request holds, if any: a change
    /// recorded in a transaction marks the key committed in that same
    /// transaction.
    pub idempotency: Option<Claim>,
}

/// Printable text of at most `max` characters, or nothing.
fn bounded(value: Option<&str>, max: usize) -> Option<String> {
    let text: String = value?
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    (!text.trim().is_empty()).then_some(text)
}

impl AuditContext {
    pub fn of(req: &HttpRequest) -> Self {
        // Header bytes as UTF-8: a purpose is often written in French.
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        };
        Self {
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
}

impl FromRequest for AuditContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

/// Who acted.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Principal(&'a Principal),
    /// A login attempt for this account (found), before any token exists.
    Account {
        kind: &'static str,
        id: Uuid,
    },
    Anonymous,
    /// parcours itself (the retention purge).
    System,
}

/// What was done to what.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: &'static str,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<Uuid>,
    pub query: Option<serde_json::Value>,
    pub result_ids: Option<Vec<Uuid>>,
    pub outcome: AuditOutcome,
}

impl Entry {
    pub fn new(action: &'static str, outcome: AuditOutcome) -> Self {
        Self {
            action,
            resource_type: None,
            resource_id: None,
            query: None,
            result_ids: None,
            outcome,
        }
    }

    pub fn on(mut self, resource_type: &'static str, id: Option<Uuid>) -> Self {
        self.resource_type = Some(resource_type);
        self.resource_id = id;
        self
    }

    /// What changed, as `{"before": …, "after": …}` (kept in `query`).
    pub fn changes(mut self, before: serde_json::Value, after: serde_json::Value) -> Self {
        self.query = Some(serde_json::json!({ "before": before, "after": after }));
        self
    }

    pub fn listing(mut self, query: serde_json::Value, ids: Vec<Uuid>) -> Self {
        self.query = Some(query);
        self.result_ids = Some(ids);
        self
    }
}

/// The row for one record.
pub fn new_record(context: &AuditContext, actor: Actor<'_>, entry: Entry) -> NewRecord {
    let (actor_kind, actor_id, actor_role) = match actor {
        Actor::Principal(who) => match who.subject {
            Subject::User(id) => ("user", Some(id), Some(who.role)),
            Subject::Client(id) => ("client", Some(id), Some(who.role)),
        },
        Actor::Account { kind, id } => (kind, Some(id), None),
        Actor::Anonymous => ("anonymous", None, None),
        Actor::System => ("system", None, None),
    };
    NewRecord {
        actor_kind,
        actor_id,
        actor_role,
        action: entry.action,
        resource_type: entry.resource_type,
        resource_id: entry.resource_id,
        query: entry.query,
        result_ids: entry
            .result_ids
            .map(|ids| ids.into_iter().map(Some).collect()),
        outcome: entry.outcome,
        request_id: context.request_id.clone(),
        source_address: context.source_address.clone(),
        user_agent: context.user_agent.clone(),
        purpose: context.purpose.clone(),
    }
}

/// Writes one record on `conn` (inside the caller's transaction, if any).
pub async fn record(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    actor: Actor<'_>,
    entry: Entry,
) -> diesel::QueryResult<()> {
    audit::insert(conn, &new_record(context, actor, entry)).await
}

/// How a refused or failed request ends, for its record.
pub fn outcome_of(error: &ApiError) -> AuditOutcome {
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;
    match error.status_code() {
        StatusCode::NOT_FOUND => AuditOutcome::NotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => AuditOutcome::Denied,
        status if status.is_client_error() => AuditOutcome::Invalid,
        _ => AuditOutcome::Failed,
    }
}

/// The record of reading one resource. Whether it was found in scope is
/// decided by the statement that reads it and writes this record
/// ([`crate::db::audited`]).
pub fn reading(
    context: &AuditContext,
    who: &Principal,
    resource_type: &'static str,
    id: Uuid,
) -> NewRecord {
    about(context, who, "read", resource_type, id)
}

/// The record of `action` on one resource, a success unless the statement
/// that writes it decides otherwise.
pub fn about(
    context: &AuditContext,
    who: &Principal,
    action: &'static str,
    resource_type: &'static str,
    id: Uuid,
) -> NewRecord {
    let entry = Entry::new(action, AuditOutcome::Success).on(resource_type, Some(id));
    new_record(context, Actor::Principal(who), entry)
}

/// The record of a list or search (`action`): what was asked; the ids
/// returned are added by the statement that reads them
/// ([`crate::db::audited`]).
pub fn listing(
    context: &AuditContext,
    who: &Principal,
    action: &'static str,
    resource_type: &'static str,
    query: serde_json::Value,
) -> NewRecord {
    let entry = Entry::new(action, AuditOutcome::Success)
        .on(resource_type, None)
        .listing(query, Vec::new());
    new_record(context, Actor::Principal(who), entry)
}

/// A list under a parent (a pathway's notes, a plan's commitments): the
/// parent as found in the caller's scope — a miss is recorded, and
/// answered 404 — and the record the list's own statement writes.
pub async fn listing_under<P>(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    resource_type: &'static str,
    (parent_type, parent_id): (&'static str, Uuid),
    found: Result<P, ApiError>,
) -> Result<(P, NewRecord), ApiError> {
    let target = (resource_type, Some(parent_id));
    let found = settled(conn, context, who, "list", target, found).await?;
    let asked = serde_json::json!({ parent_type: parent_id });
    Ok((found, listing(context, who, "list", resource_type, asked)))
}

/// Records a change; call it inside the change's transaction, so that both
/// commit or neither does.
pub async fn changed(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: &'static str,
    resource_type: &'static str,
    id: Uuid,
) -> Result<(), ApiError> {
    let entry = Entry::new(action, AuditOutcome::Success).on(resource_type, Some(id));
    record(conn, context, Actor::Principal(who), entry).await?;
    commit_claim(conn, context, resource_type, id).await
}

/// Marks the request's `Idempotency-Key` committed in the change's own
/// transaction; refuses the change when the claim was taken over by a
/// retry (this request outlived its lease), so that it rolls back.
async fn commit_claim(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    resource_type: &str,
    id: Uuid,
) -> Result<(), ApiError> {
    let Some(claim) = &context.idempotency else {
        return Ok(());
    };
    if idempotency::commit(conn, claim, resource_type, Some(id)).await? {
        Ok(())
    } else {
        Err(ApiError::IdempotencyInProgress {
            retry_after: std::time::Duration::from_secs(1),
        })
    }
}

/// Records a change with what it was before and after; inside the
/// change's transaction.
pub async fn changed_from(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: &'static str,
    (resource_type, id): (&'static str, Uuid),
    (before, after): (serde_json::Value, serde_json::Value),
) -> Result<(), ApiError> {
    let entry = Entry::new(action, AuditOutcome::Success)
        .on(resource_type, Some(id))
        .changes(before, after);
    record(conn, context, Actor::Principal(who), entry).await?;
    commit_claim(conn, context, resource_type, id).await
}

/// Passes a change's result on; a refused or failed change (rolled back) is
/// recorded with its outcome.
pub async fn settled<T>(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: &'static str,
    target: (&'static str, Option<Uuid>),
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    if let Err(error) = &result {
        let entry = Entry::new(action, outcome_of(error)).on(target.0, target.1);
        if let Err(failure) = record(conn, context, Actor::Principal(who), entry).await {
            tracing::warn!(error = %failure, "a refused change could not be audited");
        }
    }
    result
}

//! Writing audit records: the request's context (who, from where, why) and
//! what was done. A handler that cannot write its record fails, so no
//! audited access succeeds unrecorded.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::Error;
use crate::db::audit::{self, NewRecord};
use crate::db::idempotency::{self, Claim};
use crate::domain::AuditOutcome;
use crate::domain::audit::ActorKind;
pub use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::principal::SubjectKind;
use crate::domain::principal::{Principal, Subject};
use crate::domain::refusal::Refusal;

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

/// Who acts, and the request's context for the records: what every use
/// case takes (the two always travel together).
#[derive(Clone, Copy)]
pub struct Acting<'a> {
    pub who: &'a Principal,
    pub audit: &'a AuditContext,
}

/// Who acted.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Principal(&'a Principal),
    /// A login attempt for this account (found), before any token exists.
    Account {
        kind: SubjectKind,
        id: Uuid,
    },
    Anonymous,
    /// parcours itself (the retention purge).
    System,
}

/// What was done to what.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: AuditAction,
    pub resource_type: Option<AuditTarget>,
    pub resource_id: Option<Uuid>,
    pub query: Option<serde_json::Value>,
    pub result_ids: Option<Vec<Uuid>>,
    pub outcome: AuditOutcome,
}

impl Entry {
    pub fn new(action: AuditAction, outcome: AuditOutcome) -> Self {
        Self {
            action,
            resource_type: None,
            resource_id: None,
            query: None,
            result_ids: None,
            outcome,
        }
    }

    pub fn on(mut self, resource_type: AuditTarget, id: Option<Uuid>) -> Self {
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
            Subject::User(id) => (ActorKind::User, Some(id), Some(who.role)),
            Subject::Client(id) => (ActorKind::Client, Some(id), Some(who.role)),
        },
        Actor::Account {
            kind: SubjectKind::User,
            id,
        } => (ActorKind::User, Some(id), None),
        Actor::Account {
            kind: SubjectKind::Client,
            id,
        } => (ActorKind::Client, Some(id), None),
        Actor::Anonymous => (ActorKind::Anonymous, None, None),
        Actor::System => (ActorKind::System, None, None),
    };
    let actor_kind = actor_kind.as_str();
    NewRecord {
        actor_kind,
        actor_id,
        actor_role,
        action: entry.action.as_str(),
        resource_type: entry.resource_type.map(AuditTarget::as_str),
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

/// Writes one record of what `by` did.
pub async fn by(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    entry: Entry,
) -> diesel::QueryResult<()> {
    record(conn, by.audit, Actor::Principal(by.who), entry).await
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

/// How a refused or failed request ends, for its record: each error type
/// of the layers above says it (`http::error` for `ApiError`).
pub trait Outcome {
    fn outcome(&self) -> AuditOutcome;
}

impl Outcome for Refusal {
    fn outcome(&self) -> AuditOutcome {
        match self {
            Refusal::NotFound { .. } => AuditOutcome::NotFound,
            Refusal::Forbidden { .. } => AuditOutcome::Denied,
            _ => AuditOutcome::Invalid,
        }
    }
}

impl Outcome for Error {
    fn outcome(&self) -> AuditOutcome {
        use diesel::result::{DatabaseErrorKind as Kind, Error as Query};
        match self {
            Error::Refused(refusal) => refusal.outcome(),
            Error::Query(Query::NotFound) => AuditOutcome::NotFound,
            Error::Query(Query::DatabaseError(
                Kind::UniqueViolation | Kind::ForeignKeyViolation | Kind::CheckViolation,
                _,
            )) => AuditOutcome::Invalid,
            Error::Query(_) | Error::Pool(_) | Error::Internal(_) => AuditOutcome::Failed,
        }
    }
}

/// The record of reading one resource. Whether it was found in scope is
/// decided by the statement that reads it and writes this record
/// ([`crate::db::audited`]).
pub fn reading(
    context: &AuditContext,
    who: &Principal,
    resource_type: AuditTarget,
    id: Uuid,
) -> NewRecord {
    about(context, who, AuditAction::Read, resource_type, id)
}

/// The record of `action` on one resource, a success unless the statement
/// that writes it decides otherwise.
pub fn about(
    context: &AuditContext,
    who: &Principal,
    action: AuditAction,
    resource_type: AuditTarget,
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
    action: AuditAction,
    resource_type: AuditTarget,
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
pub async fn listing_under<P, E: Outcome>(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    resource_type: AuditTarget,
    (parent_type, parent_id): (AuditTarget, Uuid),
    found: Result<P, E>,
) -> Result<(P, NewRecord), E> {
    let target = (resource_type, Some(parent_id));
    let found = settled(conn, context, who, AuditAction::List, target, found).await?;
    let asked = serde_json::json!({ parent_type.as_str(): parent_id });
    Ok((
        found,
        listing(context, who, AuditAction::List, resource_type, asked),
    ))
}

/// Records a change; call it inside the change's transaction, so that both
/// commit or neither does.
pub async fn changed(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: AuditAction,
    resource_type: AuditTarget,
    id: Uuid,
) -> Result<(), Error> {
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
    resource_type: AuditTarget,
    id: Uuid,
) -> Result<(), Error> {
    let Some(claim) = &context.idempotency else {
        return Ok(());
    };
    if idempotency::commit(conn, claim, resource_type.as_str(), Some(id)).await? {
        Ok(())
    } else {
        Err(Refusal::InProgress {
            retry_after: std::time::Duration::from_secs(1),
        }
        .into())
    }
}

/// Records a change with what it was before and after; inside the
/// change's transaction.
pub async fn changed_from(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: AuditAction,
    (resource_type, id): (AuditTarget, Uuid),
    (before, after): (serde_json::Value, serde_json::Value),
) -> Result<(), Error> {
    let entry = Entry::new(action, AuditOutcome::Success)
        .on(resource_type, Some(id))
        .changes(before, after);
    record(conn, context, Actor::Principal(who), entry).await?;
    commit_claim(conn, context, resource_type, id).await
}

/// Passes a change's result on; a refused or failed change (rolled back) is
/// recorded with its outcome.
pub async fn settled<T, E: Outcome>(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: AuditAction,
    target: (AuditTarget, Option<Uuid>),
    result: Result<T, E>,
) -> Result<T, E> {
    if let Err(error) = &result {
        refused(conn, context, who, action, target, error).await;
    }
    result
}

/// Records a refused or failed change with its outcome; a failure to
/// record is logged, never answered instead of the refusal.
pub async fn refused(
    conn: &mut AsyncPgConnection,
    context: &AuditContext,
    who: &Principal,
    action: AuditAction,
    (resource_type, id): (AuditTarget, Option<Uuid>),
    error: &impl Outcome,
) {
    let entry = Entry::new(action, error.outcome()).on(resource_type, id);
    if let Err(failure) = record(conn, context, Actor::Principal(who), entry).await {
        tracing::warn!(error = %failure, "a refused change could not be audited");
    }
}

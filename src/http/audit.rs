//! `/v1/audit`: the audit trail for auditors (search, verification); a
//! person's access log and full file (right of access) for the supervisors
//! of its territory.

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::Entry;
use crate::audit::record;
use crate::audit::verify::{Scope, Verification, verify as verify_chain};
use crate::auth::policy::{ReadAccessLog, ReadAuditTrail, SubjectAccess};
use crate::db::access_log as access_log_rows;
use crate::db::audit::{self, Filter, Record};
use crate::db::{persons, subject_access};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::{AuditOutcome, Role};
use crate::http::caller::Authorized;
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// The user or client who acted.
    pub actor: Option<Uuid>,
    /// `person`, `pathway`, …
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// `read`, `search`, `transition`, `login`, `authorize`, `token_refused`, …
    pub action: Option<String>,
    /// From this instant (included).
    pub from: Option<DateTime<Utc>>,
    /// Up to this instant (excluded).
    pub to: Option<DateTime<Utc>>,
    /// Refused: a searched term names a person; see `POST /v1/audit/search`.
    #[param(ignore)]
    pub searched: Option<serde::de::IgnoredAny>,
}

/// A search of the audit trail; every criterion given must match.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSearch {
    /// The user or client who acted.
    pub actor: Option<Uuid>,
    #[schema(value_type = Option<AuditTarget>)]
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    #[schema(value_type = Option<AuditAction>)]
    pub action: Option<String>,
    /// From this instant (included).
    pub from: Option<DateTime<Utc>>,
    /// Up to this instant (excluded).
    pub to: Option<DateTime<Utc>>,
    /// A name, a birth date (`YYYY-MM-DD`) or a CAF or MSA number: the
    /// person searches that looked for it (case, accents and spacing
    /// folded). The trail keeps searched terms only as keyed hashes
    /// (`q_ref`, `birth_date_ref`, `caf_number_ref`, `msa_number_ref` in
    /// `query`); this is how to find them. Up to 200 characters.
    #[schema(max_length = 200)]
    pub searched: Option<String>,
}

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    /// Its place in the log; `cursor` pages go by it.
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = crate::domain::audit::ActorKind)]
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    #[schema(value_type = AuditAction)]
    pub action: String,
    #[schema(value_type = Option<AuditTarget>)]
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// For a list or search: what was asked (its filters; searched terms
    /// only as keyed hashes, `…_ref`); for a change: `before` and `after`;
    /// for a refusal: what was tried. Its members depend on the action.
    #[schema(value_type = Option<std::collections::BTreeMap<String, serde_json::Value>>)]
    pub query: Option<serde_json::Value>,
    /// For a list or search: the ids it returned.
    pub result_ids: Option<Vec<Uuid>>,
    pub outcome: AuditOutcome,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
    pub source_address: Option<String>,
    pub user_agent: Option<String>,
    /// The client's `X-Purpose` header, when it sent one.
    pub purpose: Option<String>,
}

impl From<Record> for AuditRecord {
    fn from(r: Record) -> Self {
        Self {
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            query: r.query,
            result_ids: r.result_ids.map(|ids| ids.into_iter().flatten().collect()),
            outcome: r.outcome,
            request_id: r.request_id,
            source_address: r.source_address,
            user_agent: r.user_agent,
            purpose: r.purpose,
        }
    }
}

/// Search the audit trail (auditors), oldest first. Each search is itself
/// audited. To find the searches that looked for a person (`searched`),
/// send the term in the body of `POST /v1/audit/search`: it names a
/// person, and never travels in a URL (400 here).
#[utoipa::path(
    tag = "audit",
    params(AuditParams, PageParams),
    responses(
        (status = 200, description = "One page of records.", body = Page<AuditRecord>),
    )
)]
#[get("")]
pub async fn search(
    caller: Authorized<ReadAuditTrail>,
    params: Query<AuditParams>,
    page: Query<PageParams>,
    state: web::Data<AppState>,
) -> Result<web::Json<Page<AuditRecord>>, ApiError> {
    let p = params.into_inner();
    let in_url = [("searched", p.searched.is_some())];
    ApiError::refuse_in_url(&in_url, "POST /v1/audit/search")?;
    let criteria = AuditSearch {
        actor: p.actor,
        resource_type: p.resource_type,
        resource_id: p.resource_id,
        action: p.action,
        from: p.from,
        to: p.to,
        searched: None,
    };
    find(&caller, criteria, &page, &state).await
}

/// Search the audit trail with criteria in the body, `searched` among
/// them; as `GET /v1/audit` otherwise.
#[utoipa::path(
    tag = "audit",
    params(PageParams),
    request_body = AuditSearch,
    responses(
        (status = 200, description = "One page of records.", body = Page<AuditRecord>),
    )
)]
#[post("/search")]
pub async fn search_by_body(
    caller: Authorized<ReadAuditTrail>,
    body: Json<AuditSearch>,
    page: Query<PageParams>,
    state: web::Data<AppState>,
) -> Result<web::Json<Page<AuditRecord>>, ApiError> {
    find(&caller, body.0, &page, &state).await
}

async fn find(
    caller: &Authorized<ReadAuditTrail>,
    p: AuditSearch,
    page: &PageParams,
    state: &AppState,
) -> Result<web::Json<Page<AuditRecord>>, ApiError> {
    let (limit, after) = page.validate_seq()?;
    let too_long = |name: &str, value: &Option<String>, max: usize| {
        value.as_ref().filter(|v| v.chars().count() > max).map(|_| {
            ApiError::invalid(
                format!("`{name}` is too long."),
                vec![FieldError::new(name, format!("at most {max} characters"))],
            )
        })
    };
    // `searched` as long as the longest name a search accepts.
    if let Some(error) = too_long("resource_type", &p.resource_type, 100)
        .or(too_long("action", &p.action, 100))
        .or(too_long("searched", &p.searched, 200))
    {
        return Err(error);
    }
    let filter = Filter {
        actor: p.actor,
        resource_type: p.resource_type,
        resource_id: p.resource_id,
        action: p.action,
        from: p.from,
        to: p.to,
        searched: p.searched.as_deref().map(|t| state.privacy.search_term(t)),
    };
    let asked = serde_json::json!({
        "actor": filter.actor, "resource_type": filter.resource_type,
        "resource_id": filter.resource_id, "action": filter.action,
        "from": filter.from, "to": filter.to, "searched_ref": filter.searched,
    });
    let mut conn = state.pool.get().await?;
    let rows = audit::search(&mut conn, &filter, after, limit).await?;
    let entry = Entry::new(AuditAction::Search, AuditOutcome::Success)
        .on(AuditTarget::Audit, None)
        .listing(asked, vec![]);
    record::by(&mut conn, caller.acting(), entry).await?;
    let items = rows.into_iter().map(AuditRecord::from).collect();
    Ok(web::Json(Page::from_seq_rows(items, limit, |r| r.seq)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyParams {
    /// Recompute the whole chain from the first record (minutes on tens of
    /// millions of records), not only what was sealed since the last
    /// intact verification: the only way to find a record altered after
    /// it was verified once.
    #[serde(default)]
    pub full: bool,
}

/// Recompute the audit chain and check the seals: `intact`, or the first
/// record altered, removed or inserted out of place. By default from the
/// last verification that found the trail intact (`from_position`);
/// `full=true` from the first record. Each verification is kept, and the
/// next one starts from it.
#[utoipa::path(
    tag = "audit",
    params(VerifyParams),
    responses(
        (status = 200, description = "The verification's result.", body = Verification),
    )
)]
#[get("/verify")]
pub async fn verify(
    caller: Authorized<ReadAuditTrail>,
    params: Query<VerifyParams>,
    state: web::Data<AppState>,
) -> Result<web::Json<Verification>, ApiError> {
    let mut conn = caller.conn().await?;
    let report = verify_chain(&mut conn, &state.seal_key, Scope::full_if(params.full)).await?;
    let entry = Entry::new(AuditAction::Verify, AuditOutcome::Success).on(AuditTarget::Audit, None);
    record::by(&mut conn, caller.acting(), entry).await?;
    Ok(web::Json(report))
}

/// Who read or changed this person's file (the person and its pathways):
/// supervisors of the person's territory, and auditors.
#[utoipa::path(
    tag = "audit",
    params(PageParams),
    responses(
        (status = 200, description = "One page of records, oldest first.", body = Page<AuditRecord>),
    )
)]
#[get("/{id}/access-log")]
pub async fn access_log(
    caller: Authorized<ReadAccessLog>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<AuditRecord>>, ApiError> {
    let (limit, after) = page.validate_seq()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let known = if crate::auth::policy::reads_everywhere(who.role) {
        persons::exists(&mut conn, *id).await?
    } else {
        persons::find(&mut conn, who, *id, None).await?.is_some()
    };
    let known = if known {
        Ok(())
    } else {
        Err(ApiError::not_found("No such person in your territories."))
    };
    let target = (AuditTarget::Person, Some(*id));
    crate::audit::record::settled(
        &mut conn,
        caller.audit(),
        who,
        AuditAction::ReadAccessLog,
        target,
        known,
    )
    .await?;
    let record = crate::audit::record::about(
        caller.audit(),
        who,
        AuditAction::ReadAccessLog,
        AuditTarget::Person,
        *id,
    );
    let rows = access_log_rows::of_person(&mut conn, *id, after, limit, &record).await?;
    let items = rows.into_iter().map(AuditRecord::from).collect();
    Ok(web::Json(Page::from_seq_rows(items, limit, |r| r.seq)))
}

/// Everything parcours holds about one person (the right of access, GDPR
/// art. 15), for a supervisor of the person's territory to hand over: the
/// person (NIR masked), every pathway with its status history, decisions,
/// plans and commitments, GOS meetings, notes and timeline, the partners'
/// referrals, and who accessed the file. Audited.
#[utoipa::path(
    tag = "persons",
    responses(
        (status = 200, description = "The person's file: `person`, `pathways` (each with \
            `status_history`, `decisions`, `plans` with `commitments`, `meetings`, `notes`, \
            `timeline`), `referrals`, `access_log`; each record as stored.",
            body = crate::http::subject_access::SubjectAccessDocument),
    )
)]
#[get("/{id}/export")]
pub async fn person_file(
    caller: Authorized<SubjectAccess>,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = crate::audit::record::about(
        caller.audit(),
        who,
        AuditAction::SubjectAccess,
        AuditTarget::Person,
        *id,
    );
    let person = persons::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(|| ApiError::not_found("No such person in your territories."))?;
    let mut document = subject_access::of_person(&mut conn, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such person in your territories."))?;
    let nir = person
        .nir_ciphertext
        .as_deref()
        .and_then(|sealed| state.privacy.decrypt_nir(person.id, sealed))
        .map(|nir| nir.masked());
    if let Some(fields) = document.get_mut("person").and_then(|p| p.as_object_mut()) {
        fields.insert("nir".to_owned(), serde_json::json!(nir));
    }
    Ok(web::Json(document))
}

//! `/v1/pathways`: one person's support in one domain — opening (rollout
//! and one-open rules), the status machine, referent, critical flag, and
//! the timeline. Scoped to the caller's territories and domains.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{AuditContext, record};
use crate::auth::Principal;
use crate::auth::policy::{AssignReferent, WorkOnCases};
use crate::db::events;
use crate::db::pathways::{self, Filters, Pathway, StatusPeriod, Transition};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::validation::Checks;
use crate::domain::{ClosureReason, ContinuationReason, Domain, EscalationLevel, PathwayStatus};
use crate::domain::{timestamps, values};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
pub use crate::http::timeline::EventView;
use crate::services;
use crate::services::pathways::Opening;

/// A critical situation (situation critique).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Critical {
    pub level: EscalationLevel,
    pub reason: String,
    /// When the situation was first flagged critical.
    #[serde(serialize_with = "timestamps::utc")]
    pub since: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PathwayView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub domain: Domain,
    pub territory_id: Uuid,
    /// The coordinator who follows the pathway.
    pub referent_id: Option<Uuid>,
    pub status: PathwayStatus,
    /// When the current status began.
    #[serde(serialize_with = "timestamps::utc")]
    pub status_since: DateTime<Utc>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub closure_reason: Option<ClosureReason>,
    /// Present while the situation is flagged critical.
    pub critical: Option<Critical>,
    /// The person's pathway this one continues (perhaps in a domain you do
    /// not work in: `GET /v1/persons/{id}/other-pathways` shows where it stands).
    pub continues_from: Option<Uuid>,
    /// Why it continues it; present with `continues_from`.
    pub continuation_reason: Option<ContinuationReason>,
    #[serde(serialize_with = "timestamps::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "timestamps::utc")]
    pub updated_at: DateTime<Utc>,
}

impl From<Pathway> for PathwayView {
    fn from(p: Pathway) -> Self {
        let critical = match (p.critical_level, p.critical_reason, p.critical_since) {
            (Some(level), Some(reason), Some(since)) => Some(Critical {
                level,
                reason,
                since,
            }),
            _ => None,
        };
        Self {
            id: p.id,
            person_id: p.person_id,
            domain: p.domain,
            territory_id: p.territory_id,
            referent_id: p.referent_id,
            status: p.status,
            status_since: p.status_since,
            opened_on: p.opened_on,
            closed_on: p.closed_on,
            closure_reason: p.closure_reason,
            critical,
            continues_from: p.continues_from,
            continuation_reason: p.continuation_reason,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// One status and its period (like FHIR EpisodeOfCare.statusHistory).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusPeriodView {
    pub status: PathwayStatus,
    #[serde(serialize_with = "timestamps::utc")]
    pub start: DateTime<Utc>,
    /// Absent for the current status.
    #[serde(serialize_with = "timestamps::optional")]
    pub end: Option<DateTime<Utc>>,
    /// Why the pathway entered this status.
    pub reason: Option<String>,
}

/// A pathway with its status history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PathwayDetail {
    #[serde(flatten)]
    pub pathway: PathwayView,
    /// Oldest first; the last one is the current status.
    pub status_history: Vec<StatusPeriodView>,
    /// Days spent `without_solution`, all periods together, the current
    /// one counted up to now, to one decimal (as in the pathways export).
    pub days_without_solution: f64,
}

impl PathwayDetail {
    fn new(pathway: Pathway, history: Vec<StatusPeriod>) -> Self {
        let now = Utc::now();
        let seconds: i64 = history
            .iter()
            .filter(|p| p.status == PathwayStatus::WithoutSolution)
            .map(|p| (p.ended_at.unwrap_or(now) - p.started_at).num_seconds())
            .sum();
        Self {
            pathway: pathway.into(),
            status_history: history
                .into_iter()
                .map(|p| StatusPeriodView {
                    status: p.status,
                    start: p.started_at,
                    end: p.ended_at,
                    reason: p.reason,
                })
                .collect(),
            days_without_solution: (seconds as f64 / 8_640.0).round() / 10.0,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePathway {
    pub person_id: Uuid,
    pub domain: Domain,
    /// Defaults to the person's territory; must be one of yours.
    pub territory_id: Option<Uuid>,
    /// Defaults to you when you are a coordinator.
    pub referent_id: Option<Uuid>,
    /// Defaults to today; not in the future, not before the domain opened.
    #[serde(default, deserialize_with = "values::optional_date")]
    pub opened_on: Option<NaiveDate>,
    /// Why the situation was signalled.
    pub reason: Option<String>,
    /// Another pathway of the same person that this one continues, in
    /// any domain (child protection then adult disability, disability then
    /// the elderly) or the same one; opened on or before this one. Its
    /// timeline records `pathway_continued`. Requires `continuation_reason`.
    pub continues_from: Option<Uuid>,
    pub continuation_reason: Option<ContinuationReason>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: PathwayStatus,
    /// Why; kept in the status history and the timeline.
    pub reason: String,
    /// Required to close, refused otherwise.
    pub closure_reason: Option<ClosureReason>,
}

/// Hand the pathway to another referent (supervisors).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePathway {
    /// An active coordinator or supervisor of the pathway's territory and domain.
    pub referent_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCritical {
    pub level: EscalationLevel,
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearCritical {
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathwayFilters {
    pub domain: Option<Domain>,
    pub status: Option<PathwayStatus>,
    pub territory: Option<Uuid>,
    /// A referent's user id.
    pub referent: Option<Uuid>,
    /// `true`: flagged critical only; `false`: not flagged.
    pub critical: Option<bool>,
    /// Opened on or after this date.
    #[serde(default, deserialize_with = "values::optional_date")]
    pub opened_from: Option<NaiveDate>,
    /// Opened on or before this date.
    #[serde(default, deserialize_with = "values::optional_date")]
    pub opened_to: Option<NaiveDate>,
    /// A person's id: that person's pathways.
    pub person: Option<Uuid>,
}

fn respond(status: StatusCode, pathway: Pathway) -> HttpResponse {
    let (version, id) = (pathway.version, pathway.id);
    tagged(
        status,
        version,
        "/v1/pathways",
        id,
        PathwayView::from(pathway),
    )
}

async fn respond_detail(
    conn: &mut diesel_async::AsyncPgConnection,
    status: StatusCode,
    pathway: Pathway,
) -> Result<HttpResponse, ApiError> {
    let history = pathways::history(conn, pathway.id).await?;
    Ok(detail(status, pathway, history))
}

fn detail(status: StatusCode, pathway: Pathway, history: Vec<StatusPeriod>) -> HttpResponse {
    let (version, id) = (pathway.version, pathway.id);
    tagged(
        status,
        version,
        "/v1/pathways",
        id,
        PathwayDetail::new(pathway, history),
    )
}

fn reason(checks: &mut Checks, value: &str) -> String {
    checks.text("reason", value, 2000)
}

/// Pathways of your territories and domains, filtered, in creation order.
#[utoipa::path(
    tag = "pathways",
    params(PageParams, PathwayFilters),
    responses(
        (status = 200, description = "One page of pathways.", body = Page<PathwayView>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    page: Query<PageParams>,
    filters: Query<PathwayFilters>,
) -> Result<web::Json<Page<PathwayView>>, ApiError> {
    let page = page.validate()?;
    let f = filters.into_inner();
    let filters = Filters {
        domain: f.domain,
        status: f.status,
        territory: f.territory,
        referent: f.referent,
        critical: f.critical,
        opened_from: f.opened_from,
        opened_to: f.opened_to,
        person: f.person,
    };
    let asked = serde_json::json!({
        "domain": filters.domain, "status": filters.status, "territory": filters.territory,
        "referent": filters.referent, "critical": filters.critical,
        "opened_from": filters.opened_from, "opened_to": filters.opened_to,
        "person": filters.person, "after": page.after,
    });
    let mut conn = caller.conn().await?;
    let record = record::listing(
        caller.audit(),
        caller.principal(),
        AuditAction::List,
        AuditTarget::Pathway,
        asked,
    );
    let rows = pathways::list(&mut conn, caller.principal(), &filters, page, &record).await?;
    let views = rows.into_iter().map(PathwayView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |p| p.id)))
}

/// Open a pathway in status `referred`. Refused with 422 `domain-not-open`
/// before the domain's opening date, and with 409 while the person has an
/// open pathway in the domain.
#[utoipa::path(
    tag = "pathways",
    request_body = CreatePathway,
    responses(
        (status = 201, description = "Opened.", body = PathwayDetail, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    body: Json<CreatePathway>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let why = body.reason.as_deref().map(|r| reason(&mut checks, r));
    let continues = match (body.continues_from, body.continuation_reason) {
        (Some(previous), Some(why)) => Some((previous, why)),
        (None, None) => None,
        (Some(_), None) => {
            checks.fail("continuation_reason", "is required with `continues_from`");
            None
        }
        (None, Some(_)) => {
            checks.fail(
                "continuation_reason",
                "is only for a pathway with `continues_from`",
            );
            None
        }
    };
    checks.finish()?;
    let today = Utc::now().date_naive();
    let opening = Opening {
        person_id: body.person_id,
        domain: body.domain,
        territory_id: body.territory_id,
        referent_id: body.referent_id,
        opened_on: body.opened_on.unwrap_or(today),
        reason: why,
        continues,
    };
    let mut conn = caller.conn().await?;
    let pathway = services::pathways::open(&mut conn, caller.acting(), opening, today).await?;
    respond_detail(&mut conn, StatusCode::CREATED, pathway).await
}

/// Read a pathway with its status history.
#[utoipa::path(
    tag = "pathways",
    responses(
        (status = 200, description = "The pathway.", body = PathwayDetail, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Pathway, *id);
    let (pathway, history) = pathways::find_with_history(&mut conn, who, *id, &record)
        .await?
        .ok_or_else(pathways::not_found)?;
    Ok(detail(StatusCode::OK, pathway, history))
}

/// Hand the pathway to another referent (supervisors). Requires `If-Match`.
#[utoipa::path(
    tag = "pathways",
    request_body = UpdatePathway,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = PathwayView, headers(("ETag" = String))),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<AssignReferent>,
    id: web::Path<Uuid>,
    body: Json<UpdatePathway>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let referent = body.0.referent_id;
    let mut conn = caller.conn().await?;
    let pathway =
        services::pathways::assign_referent(&mut conn, caller.acting(), *id, version, referent)
            .await?;
    Ok(respond(StatusCode::OK, pathway))
}

/// Move the pathway's status as its state machine allows (the table
/// below). Staff who see the pathway may move it (the timeline names who
/// did); closing it is for its referent or a supervisor (403 otherwise).
/// A move the state machine forbids is
/// 409 `forbidden-transition`, listing the allowed ones. Requires `If-Match`.
#[utoipa::path(
    tag = "pathways",
    request_body = TransitionRequest,
    params(IfMatch),
    responses(
        (status = 200, description = "Moved.", body = PathwayDetail, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<TransitionRequest>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    let why = reason(&mut checks, &body.reason);
    checks.finish()?;
    let change = Transition {
        to: body.to,
        reason: why,
        closure_reason: body.closure_reason,
    };
    let mut conn = caller.conn().await?;
    let pathway =
        services::pathways::transition(&mut conn, caller.acting(), *id, version, &change).await?;
    respond_detail(&mut conn, StatusCode::OK, pathway).await
}

async fn steer_critical(
    caller: &Authorized<WorkOnCases>,
    if_match: IfMatch,
    id: Uuid,
    level: Option<EscalationLevel>,
    why: &str,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let mut checks = Checks::new();
    let why = reason(&mut checks, why);
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let pathway =
        services::pathways::steer_critical(&mut conn, by, id, version, level, &why).await?;
    Ok(respond(StatusCode::OK, pathway))
}

/// Flag the situation critical, or change its escalation level. Supervisors,
/// or the pathway's referent. Requires `If-Match`.
#[utoipa::path(
    tag = "pathways",
    request_body = SetCritical,
    params(IfMatch),
    responses(
        (status = 200, description = "Flagged.", body = PathwayView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[put("/{id}/critical")]
pub async fn set_critical(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<SetCritical>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let level = Some(body.level);
    steer_critical(&caller, if_match, *id, level, &body.reason).await
}

/// Clear the critical flag, with a reason. Supervisors, or the pathway's
/// referent. Requires `If-Match`.
#[utoipa::path(
    tag = "pathways",
    request_body = ClearCritical,
    params(IfMatch),
    responses(
        (status = 200, description = "Cleared.", body = PathwayView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/{id}/critical")]
pub async fn clear_critical(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<ClearCritical>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    steer_critical(&caller, if_match, *id, None, &body.0.reason).await
}

/// Every event of the pathway, oldest first.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "One page of the timeline.", body = Page<EventView>),
    )
)]
#[get("/{id}/timeline")]
pub async fn timeline(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<EventView>>, ApiError> {
    let (limit, after) = page.validate_seq()?;
    let mut conn = caller.conn().await?;
    let who = caller.principal();
    let record = record::reading(caller.audit(), who, AuditTarget::Timeline, *id);
    let pathway = pathways::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(pathways::not_found)?;
    let rows = events::of_pathway(&mut conn, pathway.id, after, limit).await?;
    let views = rows.into_iter().map(EventView::from).collect();
    Ok(web::Json(Page::from_seq_rows(views, limit, |e| e.seq)))
}

/// The pathway whose `listed` records (notes, plans, decisions, meetings) a
/// caller lists: found in the caller's scope — a miss is recorded, and
/// answered 404 — and the record the list's own statement writes.
pub async fn listing_under_pathway(
    conn: &mut diesel_async::AsyncPgConnection,
    audit: &AuditContext,
    who: &Principal,
    id: Uuid,
    listed: AuditTarget,
) -> Result<(Pathway, crate::db::audit::NewRecord), ApiError> {
    let pathway = pathways::find(conn, who, id, None)
        .await?
        .ok_or_else(pathways::not_found);
    let parent = (AuditTarget::Pathway, id);
    Ok(record::listing_under(conn, audit, who, listed, parent, pathway).await?)
}

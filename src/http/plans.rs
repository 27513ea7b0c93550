//! Support plans: `/v1/pathways/{id}/plans`, `/v1/plans/{id}` and its
//! transitions `draft → proposed → consented → active → ended`, the
//! consent to a new version of a plan in force and the versions agreed to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::WorkOnCases;
use crate::db::plans::{self, Plan, PlanChanges, PlanVersion};
use crate::domain::audit::AuditTarget;
use crate::domain::coding::Coding;
use crate::domain::plan::national_end_reason_coding;
use crate::domain::validation::Checks;
use crate::domain::{CommitmentStatus, ConsentBy, PlanEndReason, PlanKind, PlanStatus};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::pathways::listing_under_pathway;
use crate::services;
use crate::services::plans::NewPlan;
use crate::services::plans::PlanTransition;

/// The prior agreement to a plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub by: ConsentBy,
    pub given_on: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub kind: PlanKind,
    pub status: PlanStatus,
    /// The professional who coordinates the plan.
    pub coordinator_id: Uuid,
    pub objectives: Option<String>,
    /// Present from `consented` on.
    pub consent: Option<Consent>,
    pub activated_on: Option<NaiveDate>,
    /// At most 12 months after activation; an overdue review is an alert.
    pub review_due: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
    /// The end reason in the national list TRE_R421 « Motif fin PAG », when
    /// it is one of its nine (always, for a PAG ended since they exist).
    pub end_reason_code: Option<Coding>,
    /// The version of its content (objectives, commitments): 1 until the
    /// first consent; a change after a consent opens the next one.
    pub version_number: i32,
    /// The last version the person agreed to (`GET /v1/plans/{id}/versions`).
    pub consented_version_number: Option<i32>,
    /// The content changed since the version agreed to: the person must
    /// agree again (`POST /v1/plans/{id}/consents`).
    pub needs_consent: bool,
    /// What changed since then (changes of objectives, commitments added,
    /// given new terms or cancelled, by id).
    pub pending_changes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Plan> for PlanView {
    fn from(p: Plan) -> Self {
        Self {
            id: p.id,
            pathway_id: p.pathway_id,
            kind: p.kind,
            status: p.status,
            coordinator_id: p.coordinator_id,
            objectives: p.objectives,
            consent: match (p.consent_by, p.consented_on) {
                (Some(by), Some(given_on)) => Some(Consent { by, given_on }),
                _ => None,
            },
            activated_on: p.activated_on,
            review_due: p.review_due,
            ended_on: p.ended_on,
            end_reason: p.end_reason,
            end_reason_code: p.end_reason.and_then(national_end_reason_coding),
            needs_consent: p
                .consented_version_number
                .is_some_and(|n| n != p.version_number),
            version_number: p.version_number,
            consented_version_number: p.consented_version_number,
            pending_changes: p.pending_changes,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A commitment as a version of a plan froze it: what the person agreed
/// the organization would do.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgreedCommitment {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub description: String,
    pub frequency: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: CommitmentStatus,
}

/// One version of a plan the person agreed to, frozen as it was.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanVersionView {
    pub number: i32,
    pub objectives: Option<String>,
    /// The commitments standing then.
    #[schema(value_type = Vec<AgreedCommitment>)]
    pub commitments: serde_json::Value,
    /// What changed from the version before (absent for the first).
    pub changes: Option<String>,
    pub consent: Consent,
    /// Who recorded the consent, and when.
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

impl From<PlanVersion> for PlanVersionView {
    fn from(v: PlanVersion) -> Self {
        Self {
            number: v.number,
            objectives: v.objectives,
            commitments: v.commitments,
            changes: v.changes,
            consent: Consent {
                by: v.consent_by,
                given_on: v.consented_on,
            },
            recorded_by: v.recorded_by,
            recorded_at: v.recorded_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    /// `pag` in every domain, or the domain's own: `care_plan` (elderly),
    /// `ppe` (childhood), `engagement_contract` (insertion).
    pub kind: PlanKind,
    /// Defaults to the pathway's referent.
    pub coordinator_id: Option<Uuid>,
    pub objectives: Option<String>,
}

/// Absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    pub objectives: Option<String>,
    pub coordinator_id: Option<Uuid>,
    /// Only once active: after activation, at most 12 months later.
    pub review_due: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanTransitionRequest {
    pub to: PlanStatus,
    /// Required for `consented`.
    pub consent: Option<Consent>,
    /// For `active`: defaults to 12 months after today, the latest allowed.
    pub review_due: Option<NaiveDate>,
    /// Required for `ended`.
    pub end_reason: Option<PlanEndReason>,
}

fn respond(status: StatusCode, plan: Plan) -> HttpResponse {
    let (version, id) = (plan.version, plan.id);
    tagged(status, version, "/v1/plans", id, PlanView::from(plan))
}

/// Start a plan (as a draft) on an open pathway.
#[utoipa::path(
    tag = "plans",
    request_body = CreatePlan,
    responses(
        (status = 201, description = "Created as a draft.", body = PlanView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/plans")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<CreatePlan>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let objectives = body
        .objectives
        .as_deref()
        .map(|o| checks.text("objectives", o, 5000));
    checks.finish()?;
    let new = NewPlan {
        pathway_id: *id,
        kind: body.kind,
        coordinator_id: body.coordinator_id,
        objectives,
    };
    let mut conn = caller.conn().await?;
    let plan = services::plans::start(&mut conn, caller.acting(), new).await?;
    Ok(respond(StatusCode::CREATED, plan))
}

/// The plans of a pathway, oldest first.
#[utoipa::path(
    tag = "plans",
    params(PageParams),
    responses(
        (status = 200, description = "One page of plans.", body = Page<PlanView>),
    )
)]
#[get("/{id}/plans")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<PlanView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let (pathway, record) =
        listing_under_pathway(&mut conn, caller.audit(), who, *id, AuditTarget::Plan).await?;
    let rows = plans::of_pathway(&mut conn, pathway.id, page, &record).await?;
    let views = rows.into_iter().map(PlanView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |p| p.id)))
}

/// Read a plan.
#[utoipa::path(
    tag = "plans",
    responses(
        (status = 200, description = "The plan.", body = PlanView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Plan, *id);
    let plan = plans::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(plans::not_found)?;
    Ok(respond(StatusCode::OK, plan))
}

/// Change a plan's objectives, coordinator or review date. Requires `If-Match`.
#[utoipa::path(
    tag = "plans",
    request_body = UpdatePlan,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = PlanView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<UpdatePlan>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    let objectives = body
        .objectives
        .as_deref()
        .map(|o| checks.text("objectives", o, 5000));
    checks.finish()?;
    let changes = PlanChanges {
        objectives,
        coordinator_id: body.coordinator_id,
        review_due: body.review_due,
    };
    let mut conn = caller.conn().await?;
    let plan = services::plans::update(&mut conn, caller.acting(), *id, version, &changes).await?;
    Ok(respond(StatusCode::OK, plan))
}

/// Move a plan's status: `consented` needs who agreed and when, `active`
/// sets the review date (at most 12 months on), `ended` needs a reason. A
/// move the status machine forbids is 409 `forbidden-transition`. Requires
/// `If-Match`.
///
/// A plan is consented once every commitment still standing — every one
/// not `cancelled` — has been accepted by its organization (`accepted`,
/// and whatever came of it since: `in_progress`, `fulfilled`, `breached`).
/// A `proposed` (unanswered) or `refused` one holds the consent back: 409
/// `commitments-not-accepted`, whose `commitments` lists each with its
/// status. Have the organization answer, or cancel the commitment.
#[utoipa::path(
    tag = "plans",
    request_body = PlanTransitionRequest,
    params(IfMatch),
    responses(
        (status = 200, description = "Moved.", body = PlanView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<PlanTransitionRequest>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let change = PlanTransition {
        to: body.to,
        consent: body.consent.map(|c| (c.by, c.given_on)),
        review_due: body.review_due,
        end_reason: body.end_reason,
    };
    let mut conn = caller.conn().await?;
    let plan =
        services::plans::transition(&mut conn, caller.acting(), *id, version, &change).await?;
    Ok(respond(StatusCode::OK, plan))
}

/// The person (or representative) agrees to the new version of a plan in
/// force, after its content changed (`needs_consent`): every commitment
/// still standing (not `cancelled`) must be accepted by its organization,
/// or it is 409 `commitments-not-accepted` listing those that are not; the
/// version is frozen with who agreed and when. Requires `If-Match`.
#[utoipa::path(
    tag = "plans",
    request_body = Consent,
    params(IfMatch),
    responses(
        (status = 200, description = "Agreed; the plan with its new `ETag`.", body = PlanView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/consents")]
pub async fn consent(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<Consent>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let consent = (body.0.by, body.0.given_on);
    let mut conn = caller.conn().await?;
    let plan =
        services::plans::consent_version(&mut conn, caller.acting(), *id, version, consent).await?;
    Ok(respond(StatusCode::OK, plan))
}

/// The versions of a plan the person agreed to, oldest first: what each
/// held, what changed from the one before, who agreed and when.
#[utoipa::path(
    tag = "plans",
    responses(
        (status = 200, description = "The versions agreed to (at most 200).", body = Vec<PlanVersionView>),
    )
)]
#[get("/{id}/versions")]
pub async fn versions(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<PlanVersionView>>, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let plan = plans::find(&mut conn, who, *id, None)
        .await?
        .ok_or_else(plans::not_found);
    let (plan, record) = record::listing_under(
        &mut conn,
        caller.audit(),
        who,
        AuditTarget::Plan,
        (AuditTarget::Plan, *id),
        plan,
    )
    .await?;
    let rows = plans::versions_of(&mut conn, plan.id, &record).await?;
    Ok(web::Json(
        rows.into_iter().map(PlanVersionView::from).collect(),
    ))
}

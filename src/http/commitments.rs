//! Commitments: `/v1/plans/{id}/commitments` (staff) and
//! `/v1/commitments/{id}` (staff, and partners for their organization's).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::{UpdateCommitments, WorkOnCases};
use crate::db::commitments::{self, Commitment, NewCommitment};
use crate::db::plans;
use crate::domain::audit::AuditTarget;
use crate::domain::commitment::OnBehalf;
use crate::domain::validation::Checks;
use crate::domain::values;
use crate::domain::{CommitmentRefusalReason, CommitmentStatus};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services;
use crate::services::commitments::CommitmentChanges;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommitmentView {
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The organization that commits.
    pub organization_id: Uuid,
    pub description: String,
    /// e.g. "weekly", "two half-days a week".
    pub frequency: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: CommitmentStatus,
    /// Why the organization refused it (`refused` only).
    pub refusal_reason: Option<CommitmentRefusalReason>,
    /// When the organization answered the proposal, and who (its partner
    /// client, or the staff member who recorded its answer on its behalf).
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by: Option<Uuid>,
    /// Present when staff recorded the answer on the organization's
    /// behalf: how and when it was received.
    pub answered_on_behalf_of: Option<OnBehalf>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Commitment> for CommitmentView {
    fn from(c: Commitment) -> Self {
        let answered_on_behalf_of = c.on_behalf_of();
        Self {
            id: c.id,
            plan_id: c.plan_id,
            organization_id: c.organization_id,
            description: c.description,
            frequency: c.frequency,
            due_on: c.due_on,
            status: c.status,
            refusal_reason: c.refusal_reason,
            answered_at: c.answered_at,
            answered_by: c.answered_by,
            answered_on_behalf_of,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommitment {
    pub organization_id: Uuid,
    pub description: String,
    pub frequency: Option<String>,
    #[serde(default, deserialize_with = "values::optional_date")]
    pub due_on: Option<NaiveDate>,
}

/// Absent fields stay as they are. Partners may send `status` (and
/// `refusal_reason`) only. New terms put the commitment back to `proposed`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommitment {
    /// `proposed` → `accepted` | `refused` | `cancelled`; `accepted` →
    /// `in_progress` | `fulfilled` | `breached` | `cancelled`; `in_progress`
    /// → `fulfilled` | `breached` | `cancelled`; `refused` → `proposed` |
    /// `cancelled`. Partners never cancel nor propose again.
    pub status: Option<CommitmentStatus>,
    /// Required with `"status": "refused"`, and only then.
    pub refusal_reason: Option<CommitmentRefusalReason>,
    pub description: Option<String>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub frequency: Option<Option<String>>,
    #[schema(value_type = Option<NaiveDate>)]
    #[serde(default, deserialize_with = "values::nullable_date")]
    pub due_on: Option<Option<NaiveDate>>,
    /// Staff only, with `status` `accepted` or `refused` on a proposed
    /// commitment: the organization answered another way (by phone, by
    /// letter…) and you record its answer for it. The timeline, the
    /// organization's feed and the audit trail (`record_answer`) show it
    /// as such. Without it, only the organization answers (403).
    pub on_behalf_of: Option<OnBehalf>,
}

fn respond(status: StatusCode, commitment: Commitment) -> HttpResponse {
    let (version, id) = (commitment.version, commitment.id);
    tagged(
        status,
        version,
        "/v1/commitments",
        id,
        CommitmentView::from(commitment),
    )
}

/// Add an organization's commitment to a plan that has not ended.
#[utoipa::path(
    tag = "plans",
    request_body = CreateCommitment,
    responses(
        (status = 201, description = "Added, `proposed` to the organization, which answers it.", body = CommitmentView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/commitments")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<CreateCommitment>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let description = checks.text("description", &body.description, 2000);
    let frequency = body
        .frequency
        .as_deref()
        .map(|f| checks.text("frequency", f, 200));
    checks.finish()?;
    let new = NewCommitment {
        id: Uuid::now_v7(),
        plan_id: *id,
        organization_id: body.organization_id,
        description,
        frequency,
        due_on: body.due_on,
    };
    let mut conn = caller.conn().await?;
    let commitment = services::commitments::add(&mut conn, caller.acting(), &new).await?;
    Ok(respond(StatusCode::CREATED, commitment))
}

/// The commitments of a plan, oldest first.
#[utoipa::path(
    tag = "plans",
    params(PageParams),
    responses(
        (status = 200, description = "One page of commitments.", body = Page<CommitmentView>),
    )
)]
#[get("/{id}/commitments")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<CommitmentView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let plan = plans::find(&mut conn, who, *id, None)
        .await?
        .ok_or_else(plans::not_found);
    let (plan, record) = record::listing_under(
        &mut conn,
        caller.audit(),
        who,
        AuditTarget::Commitment,
        (AuditTarget::Plan, *id),
        plan,
    )
    .await?;
    let rows = commitments::of_plan(&mut conn, plan.id, page, &record).await?;
    let views = rows.into_iter().map(CommitmentView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |c| c.id)))
}

/// Read a commitment: staff of the pathway, or the partner whose
/// organization committed.
#[utoipa::path(
    tag = "plans",
    responses(
        (status = 200, description = "The commitment.", body = CommitmentView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<UpdateCommitments>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Commitment, *id);
    let commitment = commitments::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(commitments::not_found)?;
    Ok(respond(StatusCode::OK, commitment))
}

/// Change a commitment. Partners change only the status of their own
/// organization's commitments; others answer 404. Requires `If-Match`.
#[utoipa::path(
    tag = "plans",
    request_body = UpdateCommitment,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = CommitmentView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<UpdateCommitments>,
    id: web::Path<Uuid>,
    body: Json<UpdateCommitment>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    let description = body
        .description
        .as_deref()
        .map(|d| checks.text("description", d, 2000));
    let frequency = body
        .frequency
        .map(|f| f.map(|f| checks.text("frequency", &f, 200)));
    checks.finish()?;
    let changes = CommitmentChanges {
        description,
        frequency,
        due_on: body.due_on,
        status: body.status,
        refusal_reason: body.refusal_reason,
        on_behalf_of: body.on_behalf_of,
    };
    let mut conn = caller.conn().await?;
    let commitment =
        services::commitments::update(&mut conn, caller.acting(), *id, version, &changes).await?;
    Ok(respond(StatusCode::OK, commitment))
}

//! `/v1/pathways/{id}/decisions`: orientation decisions.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::WorkOnCases;
use crate::db::decisions::{self, Decision, NewDecision};
use crate::domain::audit::AuditTarget;
use crate::domain::validation::Checks;
use crate::domain::validation::is_finess;
use crate::domain::values;
use crate::domain::{DecisionAuthority, Qualification};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::pathways::listing_under_pathway;
use crate::services;

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub authority: DecisionAuthority,
    pub qualification: Qualification,
    /// What was decided, e.g. "Orientation en IME".
    pub label: String,
    /// FINESS number of the facility, when the decision names one.
    pub finess: Option<String>,
    pub decided_on: NaiveDate,
    /// The decision expires on this date; an alert warns 60 days before.
    pub valid_until: Option<NaiveDate>,
    /// When the decision was put into effect.
    pub implemented_on: Option<NaiveDate>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Decision> for DecisionView {
    fn from(d: Decision) -> Self {
        Self {
            id: d.id,
            pathway_id: d.pathway_id,
            authority: d.authority,
            qualification: d.qualification,
            label: d.label,
            finess: d.finess,
            decided_on: d.decided_on,
            valid_until: d.valid_until,
            implemented_on: d.implemented_on,
            recorded_by: d.recorded_by,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDecision {
    pub authority: DecisionAuthority,
    pub qualification: Qualification,
    #[schema(example = "Orientation en IME")]
    pub label: String,
    /// 9 characters (digits, with A or B in second place for Corsica).
    pub finess: Option<String>,
    #[serde(deserialize_with = "values::date")]
    pub decided_on: NaiveDate,
    #[serde(default, deserialize_with = "values::optional_date")]
    pub valid_until: Option<NaiveDate>,
    #[serde(default, deserialize_with = "values::optional_date")]
    pub implemented_on: Option<NaiveDate>,
}

/// Record a decision on an open pathway.
#[utoipa::path(
    tag = "pathways",
    request_body = CreateDecision,
    responses(
        (status = 201, description = "Recorded.", body = DecisionView),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("/v1/pathways/{id}/decisions")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<CreateDecision>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let today = Utc::now().date_naive();
    let mut checks = Checks::new();
    let label = checks.text("label", &body.label, 300);
    let finess = body
        .finess
        .as_deref()
        .map(|f| checks.pattern("finess", f, is_finess, "a FINESS number (9 characters)"));
    if body.decided_on > today {
        checks.fail("decided_on", "must not be in the future");
    }
    if body.valid_until.is_some_and(|d| d < body.decided_on) {
        checks.fail("valid_until", "must not be before decided_on");
    }
    if body
        .implemented_on
        .is_some_and(|d| d < body.decided_on || d > today)
    {
        checks.fail("implemented_on", "must be between decided_on and today");
    }
    checks.finish()?;
    let new = NewDecision {
        id: Uuid::now_v7(),
        pathway_id: *id,
        authority: body.authority,
        qualification: body.qualification,
        label,
        finess,
        decided_on: body.decided_on,
        valid_until: body.valid_until,
        implemented_on: body.implemented_on,
        recorded_by: Some(caller.principal().subject.id()),
    };
    let mut conn = caller.conn().await?;
    let decision =
        services::pathway_records::record_decision(&mut conn, caller.acting(), &new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/pathways/{}/decisions", decision.pathway_id),
        ))
        .json(DecisionView::from(decision)))
}

/// The decisions of a pathway, oldest first.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "One page of decisions.", body = Page<DecisionView>),
    )
)]
#[get("/v1/pathways/{id}/decisions")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<DecisionView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let (pathway, record) =
        listing_under_pathway(&mut conn, caller.audit(), who, *id, AuditTarget::Decision).await?;
    let rows = decisions::of_pathway(&mut conn, pathway.id, page, &record).await?;
    let views = rows.into_iter().map(DecisionView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |d| d.id)))
}

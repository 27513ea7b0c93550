//! `/v1/pathways/{id}/decisions`: orientation decisions.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::WorkOnCases;
use crate::db::decisions::{self, Decision, NewDecision};
use crate::db::facility_follow_ups;
use crate::domain::audit::AuditTarget;
use crate::domain::validation::Checks;
use crate::domain::validation::is_finess;
use crate::domain::{DecisionAuthority, DecisionKind, Qualification};
use crate::domain::{facility_status, values};
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
    /// An orientation, a rejection or a deferral.
    pub kind: DecisionKind,
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
    /// An orientation not put into effect that no facility admits the
    /// person to (yet): « sans solution » for this decision
    /// (`GET /v1/decisions/{id}/facilities` says where each stands).
    pub without_solution: bool,
}

impl DecisionView {
    /// The decision, with the current status of each facility it is
    /// addressed to.
    fn of<'a>(d: Decision, facilities: impl Iterator<Item = Option<&'a str>>) -> Self {
        let without_solution = facility_status::decision_without_solution(
            d.kind,
            d.implemented_on.is_some(),
            facilities,
        );
        Self {
            without_solution,
            id: d.id,
            pathway_id: d.pathway_id,
            kind: d.kind,
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
    /// `orientation` when absent. Only orientations are addressed to
    /// facilities and counted as orientations.
    #[serde(default)]
    #[schema(default = "orientation")]
    pub kind: DecisionKind,
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
#[post("/{id}/decisions")]
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
        kind: body.kind,
    };
    let mut conn = caller.conn().await?;
    let decision =
        services::pathway_records::record_decision(&mut conn, caller.acting(), &new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/pathways/{}/decisions", decision.pathway_id),
        ))
        .json(DecisionView::of(decision, std::iter::empty())))
}

/// The decisions of a pathway, oldest first.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "One page of decisions.", body = Page<DecisionView>),
    )
)]
#[get("/{id}/decisions")]
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
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut statuses: HashMap<Uuid, Vec<Option<String>>> = HashMap::new();
    for (decision, status) in facility_follow_ups::statuses_of_decisions(&mut conn, &ids).await? {
        statuses.entry(decision).or_default().push(status);
    }
    let views = rows
        .into_iter()
        .map(|d| {
            let facilities = statuses.remove(&d.id).unwrap_or_default();
            DecisionView::of(d, facilities.iter().map(Option::as_deref))
        })
        .collect();
    Ok(web::Json(Page::from_rows(views, page, |d| d.id)))
}

//! `/v1/pathways/{id}/meetings`: GOS meetings (groupe opérationnel de synthèse).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::WorkOnCases;
use crate::db::meetings::{self, MeetingWithParticipants, NewMeeting};
use crate::domain::audit::AuditTarget;
use crate::domain::validation::Checks;
use crate::domain::values;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::pathways::listing_under_pathway;
use crate::services;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub held_on: NaiveDate,
    /// Organizations that took part.
    pub organization_ids: Vec<Uuid>,
    /// Professionals who took part.
    pub user_ids: Vec<Uuid>,
    /// Whether the person (or their representative) agreed to the meeting
    /// and its outcome.
    pub person_agreed: bool,
    pub outcome: String,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<MeetingWithParticipants> for MeetingView {
    fn from(m: MeetingWithParticipants) -> Self {
        Self {
            id: m.meeting.id,
            pathway_id: m.meeting.pathway_id,
            held_on: m.meeting.held_on,
            organization_ids: m.organizations,
            user_ids: m.users,
            person_agreed: m.meeting.person_agreed,
            outcome: m.meeting.outcome,
            recorded_by: m.meeting.recorded_by,
            created_at: m.meeting.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeeting {
    #[serde(deserialize_with = "values::date")]
    pub held_on: NaiveDate,
    #[serde(default)]
    pub organization_ids: Vec<Uuid>,
    #[serde(default)]
    pub user_ids: Vec<Uuid>,
    pub person_agreed: bool,
    pub outcome: String,
}

/// Record a GOS meeting on an open pathway.
#[utoipa::path(
    tag = "pathways",
    request_body = CreateMeeting,
    responses(
        (status = 201, description = "Recorded.", body = MeetingView),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/v1/pathways/{id}/meetings")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<CreateMeeting>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let outcome = checks.text("outcome", &body.outcome, 5000);
    if body.held_on > Utc::now().date_naive() {
        checks.fail("held_on", "must not be in the future");
    }
    if body.organization_ids.len() > 50 || body.user_ids.len() > 50 {
        checks.fail("organization_ids", "at most 50 participants of each kind");
    }
    checks.finish()?;
    let new = NewMeeting {
        pathway_id: *id,
        held_on: body.held_on,
        person_agreed: body.person_agreed,
        outcome,
        organizations: body.organization_ids,
        users: body.user_ids,
    };
    let mut conn = caller.conn().await?;
    let meeting =
        services::pathway_records::record_meeting(&mut conn, caller.acting(), &new).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/v1/pathways/{}/meetings", meeting.meeting.pathway_id),
        ))
        .json(MeetingView::from(meeting)))
}

/// The GOS meetings of a pathway, oldest first.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "One page of meetings.", body = Page<MeetingView>),
    )
)]
#[get("/v1/pathways/{id}/meetings")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<MeetingView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let (pathway, record) =
        listing_under_pathway(&mut conn, caller.audit(), who, *id, AuditTarget::Meeting).await?;
    let rows = meetings::of_pathway(&mut conn, pathway.id, page, &record).await?;
    let views = rows.into_iter().map(MeetingView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |m| m.id)))
}

//! GOS meetings (groupe opérationnel de synthèse): `/v1/pathways/{id}/meetings`
//! (convene one, or record one held; list them), `/v1/meetings/{id}` and
//! `/v1/meetings/{id}/transitions` (hold it, or call it off).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::WorkOnCases;
use crate::db::meetings::{self, MeetingWithParticipants};
use crate::domain::MeetingStatus;
use crate::domain::audit::AuditTarget;
use crate::domain::meeting;
use crate::domain::validation::Checks;
use crate::domain::values;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::pathways::listing_under_pathway;
use crate::services;
use crate::services::meetings::{Move, NewMeeting, When};

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub status: MeetingStatus,
    /// When it was convened for (absent for a meeting recorded once held).
    pub planned_at: Option<DateTime<Utc>>,
    /// The plan it builds, a plan of the same pathway.
    pub plan_id: Option<Uuid>,
    /// Once held.
    pub held_on: Option<NaiveDate>,
    /// Organizations invited, then those that took part once held.
    pub organization_ids: Vec<Uuid>,
    /// Professionals invited, then those who took part once held.
    pub user_ids: Vec<Uuid>,
    /// Whether the person (or their representative) agreed to the meeting
    /// (beforehand, to convene it) and, once held, to its outcome.
    pub person_agreed: bool,
    /// Once held.
    pub outcome: Option<String>,
    /// Why it was called off, once cancelled.
    pub cancel_reason: Option<String>,
    /// Who convened it, then who recorded it held.
    pub recorded_by: Option<Uuid>,
    /// Send it back in `If-Match` to hold or cancel it.
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

impl From<MeetingWithParticipants> for MeetingView {
    fn from(m: MeetingWithParticipants) -> Self {
        Self {
            id: m.meeting.id,
            pathway_id: m.meeting.pathway_id,
            status: m.meeting.status,
            planned_at: m.meeting.planned_at,
            plan_id: m.meeting.plan_id,
            held_on: m.meeting.held_on,
            organization_ids: m.organizations,
            user_ids: m.users,
            person_agreed: m.meeting.person_agreed,
            outcome: m.meeting.outcome,
            cancel_reason: m.meeting.cancel_reason,
            recorded_by: m.meeting.recorded_by,
            version: m.meeting.version,
            created_at: m.meeting.created_at,
        }
    }
}

/// A GOS to convene (`planned_at`) or one already held (`held_on` with
/// its `outcome`): exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeeting {
    /// Convene it for this time (RFC 3339; from now to a year ahead); the
    /// organizations in `organization_ids` are invited through their feed
    /// and webhooks.
    pub planned_at: Option<DateTime<Utc>>,
    /// Record it as held on this day (not in the future), with `outcome`.
    #[serde(default, deserialize_with = "values::optional_date")]
    pub held_on: Option<NaiveDate>,
    /// Invitees, or who took part (at most 50).
    #[serde(default)]
    pub organization_ids: Vec<Uuid>,
    /// Invitees, or who took part (at most 50).
    #[serde(default)]
    pub user_ids: Vec<Uuid>,
    /// The person's agreement: required (`true`) to convene a GOS.
    pub person_agreed: bool,
    /// With `held_on` only (at most 5000 characters).
    pub outcome: Option<String>,
    /// The plan the meeting builds: a plan of the same pathway.
    pub plan_id: Option<Uuid>,
}

/// A convened meeting, held or called off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingTransition {
    /// `held` (with `held_on`, `outcome`, `person_agreed`) or `cancelled`
    /// (with `reason`).
    pub to: MeetingStatus,
    #[serde(default, deserialize_with = "values::optional_date")]
    pub held_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    /// Whether the person agreed to the outcome.
    pub person_agreed: Option<bool>,
    /// Who took part, when not every invitee did (or others came).
    pub organization_ids: Option<Vec<Uuid>>,
    pub user_ids: Option<Vec<Uuid>>,
    /// Why it is called off (at most 2000 characters).
    pub reason: Option<String>,
}

fn participants_checked(checks: &mut Checks, organizations: usize, users: usize) {
    if organizations > meeting::MAX_PARTICIPANTS {
        checks.fail("organization_ids", "at most 50 organizations");
    }
    if users > meeting::MAX_PARTICIPANTS {
        checks.fail("user_ids", "at most 50 professionals");
    }
}

fn held_on_checked(checks: &mut Checks, held_on: NaiveDate) {
    if held_on > Utc::now().date_naive() {
        checks.fail("held_on", "must not be in the future");
    }
}

impl CreateMeeting {
    fn parse(self, pathway_id: Uuid) -> Result<NewMeeting, ApiError> {
        let mut checks = Checks::new();
        participants_checked(
            &mut checks,
            self.organization_ids.len(),
            self.user_ids.len(),
        );
        let outcome = self.outcome.map(|o| checks.text("outcome", &o, 5000));
        let when = match (self.planned_at, self.held_on, outcome) {
            (Some(at), None, None) => {
                let now = Utc::now();
                if at < now {
                    checks.fail("planned_at", "must not be in the past");
                } else if at > now + chrono::Duration::days(366) {
                    checks.fail("planned_at", "must be within a year");
                }
                if !self.person_agreed {
                    checks.fail(
                        "person_agreed",
                        "a GOS is convened with the person's prior agreement",
                    );
                }
                Some(When::Planned(at))
            }
            (Some(_), _, _) => {
                checks.fail(
                    "planned_at",
                    "give either planned_at, or held_on with outcome",
                );
                None
            }
            (None, Some(on), Some(outcome)) => {
                held_on_checked(&mut checks, on);
                Some(When::Held { on, outcome })
            }
            (None, Some(_), None) => {
                checks.fail("outcome", "is required with held_on");
                None
            }
            (None, None, _) => {
                checks.fail("held_on", "give either planned_at, or held_on with outcome");
                None
            }
        };
        checks.finish()?;
        let when = when.ok_or_else(|| ApiError::internal(anyhow::anyhow!("checked above")))?;
        Ok(NewMeeting {
            pathway_id,
            when,
            person_agreed: self.person_agreed,
            plan_id: self.plan_id,
            organizations: self.organization_ids,
            users: self.user_ids,
        })
    }
}

impl MeetingTransition {
    fn parse(self) -> Result<Move, ApiError> {
        let mut checks = Checks::new();
        let held = self.to == MeetingStatus::Held;
        let cancelled = self.to == MeetingStatus::Cancelled;
        if self.to == MeetingStatus::Planned {
            checks.fail(
                "to",
                "a meeting is convened once, by POST /v1/pathways/{id}/meetings",
            );
        }
        let outcome = self.outcome.map(|o| checks.text("outcome", &o, 5000));
        let reason = self.reason.map(|r| checks.text("reason", &r, 2000));
        participants_checked(
            &mut checks,
            self.organization_ids.as_ref().map_or(0, Vec::len),
            self.user_ids.as_ref().map_or(0, Vec::len),
        );
        for (field, given) in [
            ("held_on", self.held_on.is_some()),
            ("outcome", outcome.is_some()),
            ("person_agreed", self.person_agreed.is_some()),
        ] {
            if held && !given {
                checks.fail(field, "is required to record the meeting held");
            } else if !held && given {
                checks.fail(field, "is given only with `to: held`");
            }
        }
        if !held && (self.organization_ids.is_some() || self.user_ids.is_some()) {
            checks.fail("organization_ids", "is given only with `to: held`");
        }
        match (&reason, cancelled) {
            (None, true) => checks.fail("reason", "is required to call it off"),
            (Some(_), false) => checks.fail("reason", "is given only with `to: cancelled`"),
            _ => {}
        }
        if let Some(on) = self.held_on {
            held_on_checked(&mut checks, on);
        }
        checks.finish()?;
        Ok(match (self.held_on, outcome, self.person_agreed, reason) {
            (Some(on), Some(outcome), Some(person_agreed), _) if held => Move::Hold {
                on,
                outcome,
                person_agreed,
                organizations: self.organization_ids,
                users: self.user_ids,
            },
            (_, _, _, Some(reason)) => Move::Cancel(reason),
            _ => return Err(ApiError::internal(anyhow::anyhow!("checked above"))),
        })
    }
}

fn respond(status: StatusCode, meeting: MeetingWithParticipants) -> HttpResponse {
    let (version, id) = (meeting.meeting.version, meeting.meeting.id);
    tagged(
        status,
        version,
        "/v1/meetings",
        id,
        MeetingView::from(meeting),
    )
}

/// Convene a GOS on an open pathway (`planned_at`, the invitees and the
/// person's prior agreement; the invited organizations receive
/// `meeting_planned` in their feed and webhooks and follow the pathway from
/// then on), or record one already held (`held_on`, `outcome`).
#[utoipa::path(
    tag = "pathways",
    request_body = CreateMeeting,
    responses(
        (status = 201, description = "Convened, or recorded as held.", body = MeetingView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/meetings")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<CreateMeeting>,
) -> Result<HttpResponse, ApiError> {
    let new = body.0.parse(*id)?;
    let mut conn = caller.conn().await?;
    let meeting = services::meetings::record(&mut conn, caller.acting(), &new).await?;
    Ok(respond(StatusCode::CREATED, meeting))
}

/// Read a GOS meeting of a pathway of your territories and domains.
#[utoipa::path(
    tag = "pathways",
    responses(
        (status = 200, description = "The meeting.", body = MeetingView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Meeting, *id);
    let meeting = meetings::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(meetings::not_found)?;
    Ok(respond(StatusCode::OK, meeting))
}

/// Record a convened GOS as held (`held_on`, `outcome`, `person_agreed`;
/// who took part, when not exactly the invitees) or call it off
/// (`reason`). Requires `If-Match`.
#[utoipa::path(
    tag = "pathways",
    request_body = MeetingTransition,
    params(IfMatch),
    responses(
        (status = 200, description = "Moved; the meeting with its new `ETag`.", body = MeetingView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<MeetingTransition>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let change = body.0.parse()?;
    let mut conn = caller.conn().await?;
    let meeting =
        services::meetings::advance(&mut conn, caller.acting(), *id, version, &change).await?;
    Ok(respond(StatusCode::OK, meeting))
}

/// The GOS meetings of a pathway, oldest first.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "One page of meetings.", body = Page<MeetingView>),
    )
)]
#[get("/{id}/meetings")]
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

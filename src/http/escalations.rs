//! Critical situations escalated, not just labelled:
//! `/v1/pathways/{id}/escalations` (staff who steer a pathway flagged
//! critical send its situation to a named organization — the ARS, the
//! national support cell — with a short summary and the day an answer is
//! due; and list them), `/v1/escalations` (the recipient's partner client
//! lists what was sent to it; staff, those of their pathways),
//! `/v1/escalations/{id}` and `/v1/escalations/{id}/transitions`
//! (acknowledge, answer; close).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::{FollowEscalations, WorkOnCases};
use crate::db::escalations::{self, Filters, Shown};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::escalation;
use crate::domain::validation::Checks;
use crate::domain::values;
use crate::domain::{Domain, EscalationClosure, EscalationLevel, EscalationStatus};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::pathways::listing_under_pathway;
use crate::http::persons::{ReferentContact, ServiceRef};
use crate::services;
use crate::services::escalations::{Move, NewEscalation};

/// The longest summary sent, and the longest answer.
const SUMMARY_MAX: usize = 2000;
const ANSWER_MAX: usize = 4000;

/// The organization an escalation is sent to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    pub id: Uuid,
    #[schema(example = "ARS Provence-Alpes-Côte d'Azur")]
    pub name: String,
}

/// A critical situation escalated to an organization: what its recipient
/// is told (never the person's name, notes or history), and where its
/// answer stands.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EscalationView {
    pub id: Uuid,
    /// The pathway concerned: its recipient follows it (status only) in
    /// `GET /v1/partner/pathways/{id}` and the feed from the day it was sent.
    pub pathway_id: Uuid,
    pub domain: Domain,
    /// The service that follows the pathway.
    pub service: ServiceRef,
    pub recipient: Recipient,
    /// The situation's escalation level when it was sent.
    pub level: EscalationLevel,
    /// What the recipient needs to know, written for it by the sender.
    pub summary: String,
    /// The answer is due by this day.
    pub due_on: NaiveDate,
    /// The answer is still awaited after `due_on`.
    pub overdue: bool,
    pub status: EscalationStatus,
    pub sent_at: DateTime<Utc>,
    /// Who sent it: the person to call about it.
    pub contact: ReferentContact,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The recipient's answer, once given.
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Why the département closed it, once closed.
    pub closure: Option<EscalationClosure>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Send it back in `If-Match` to move it.
    pub version: i32,
}

impl From<Shown> for EscalationView {
    fn from(row: Shown) -> Self {
        let e = row.escalation;
        let today = Utc::now().date_naive();
        Self {
            id: e.id,
            pathway_id: e.pathway_id,
            domain: row.domain,
            service: ServiceRef {
                id: row.territory_id,
                name: row.territory_name,
            },
            recipient: Recipient {
                id: e.organization_id,
                name: row.organization_name,
            },
            level: e.level,
            summary: e.summary,
            due_on: e.due_on,
            overdue: escalation::overdue(e.status, e.due_on, today),
            status: e.status,
            sent_at: e.sent_at,
            contact: ReferentContact {
                name: row.sender_name,
                email: row.sender_email,
            },
            acknowledged_at: e.acknowledged_at,
            answer: e.answer,
            answered_at: e.answered_at,
            closure: e.closure,
            closed_at: e.closed_at,
            version: e.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendEscalation {
    /// The recipient: an organization (`GET /v1/organizations`), such as
    /// the ARS or the national support cell.
    pub organization_id: Uuid,
    /// What the recipient needs to know to act, and nothing more: no
    /// name, no notes (at most 2000 characters).
    #[schema(max_length = 2000)]
    pub summary: String,
    /// The day an answer is expected: after today, at most 90 days ahead.
    #[serde(deserialize_with = "values::date")]
    pub due_on: NaiveDate,
}

/// A move of an escalation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationTransition {
    /// `acknowledged` or `answered` (the recipient, or staff who steer the
    /// pathway recording what it said); `closed` (the département only).
    pub to: EscalationStatus,
    /// Required for `answered`, refused otherwise (at most 4000 characters).
    #[schema(max_length = 4000)]
    pub answer: Option<String>,
    /// Required for `closed`, refused otherwise.
    pub closure: Option<EscalationClosure>,
}

impl EscalationTransition {
    /// The move it asks for, or every field to fix.
    fn parse(self) -> Result<Move, ApiError> {
        let mut checks = Checks::new();
        let answer = self.answer.map(|a| checks.text("answer", &a, ANSWER_MAX));
        let wants_answer = self.to == EscalationStatus::Answered;
        let wants_closure = self.to == EscalationStatus::Closed;
        match (&answer, wants_answer) {
            (None, true) => checks.fail("answer", "is required to answer"),
            (Some(_), false) => checks.fail("answer", "is given only with `to: answered`"),
            _ => {}
        }
        match (self.closure, wants_closure) {
            (None, true) => checks.fail("closure", "is required to close"),
            (Some(_), false) => checks.fail("closure", "is given only with `to: closed`"),
            _ => {}
        }
        if self.to == EscalationStatus::Sent {
            checks.fail(
                "to",
                "an escalation is sent once, by POST /v1/pathways/{id}/escalations",
            );
        }
        checks.finish()?;
        Ok(match (self.to, answer, self.closure) {
            (EscalationStatus::Answered, Some(answer), _) => Move::Answer(answer),
            (EscalationStatus::Closed, _, Some(closure)) => Move::Close(closure),
            _ => Move::Acknowledge,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EscalationFilters {
    pub status: Option<EscalationStatus>,
    /// `true`: only those whose answer is overdue today.
    pub overdue: Option<bool>,
}

fn respond(status: StatusCode, row: Shown) -> HttpResponse {
    let (version, id) = (row.escalation.version, row.escalation.id);
    tagged(
        status,
        version,
        "/v1/escalations",
        id,
        EscalationView::from(row),
    )
}

/// Escalate the critical situation of a pathway to an organization. The
/// pathway must be open and flagged critical (`PUT
/// /v1/pathways/{id}/critical`); its referent or a supervisor sends it.
/// The recipient's partner clients then read it, follow the pathway in
/// their feed and webhooks (`escalation_sent`), and answer it. Refused
/// (409) when the person objected to sharing with partners, or when it is
/// already escalated to that organization and not closed.
#[utoipa::path(
    tag = "escalations",
    request_body = SendEscalation,
    responses(
        (status = 201, description = "Sent.", body = EscalationView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/escalations")]
pub async fn send(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<SendEscalation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let summary = checks.text("summary", &body.summary, SUMMARY_MAX);
    if let Err(message) = escalation::check_due_on(body.due_on, Utc::now().date_naive()) {
        checks.fail("due_on", message);
    }
    checks.finish()?;
    let new = NewEscalation {
        id: Uuid::now_v7(),
        pathway_id: *id,
        organization_id: body.organization_id,
        summary,
        due_on: body.due_on,
    };
    let mut conn = caller.conn().await?;
    let sent = services::escalations::send(&mut conn, caller.acting(), &new).await?;
    let row = escalations::shown_one(&mut conn, sent).await?;
    Ok(respond(StatusCode::CREATED, row))
}

/// The escalations of a pathway, oldest first.
#[utoipa::path(
    tag = "escalations",
    params(PageParams),
    responses(
        (status = 200, description = "One page of escalations.", body = Page<EscalationView>),
    )
)]
#[get("/{id}/escalations")]
pub async fn of_pathway(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<EscalationView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let (pathway, record) =
        listing_under_pathway(&mut conn, caller.audit(), who, *id, AuditTarget::Escalation).await?;
    let filters = Filters {
        pathway: Some(pathway.id),
        ..Filters::default()
    };
    let today = Utc::now().date_naive();
    let rows = escalations::list(&mut conn, who, filters, today, page, &record).await?;
    let views = rows.into_iter().map(EscalationView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |e| e.id)))
}

/// The escalations you follow, oldest first: a partner, those sent to its
/// organization (none of a person who objected to sharing); staff, those
/// of the pathways of their territories and domains.
#[utoipa::path(
    tag = "escalations",
    params(PageParams, EscalationFilters),
    responses(
        (status = 200, description = "One page of escalations.", body = Page<EscalationView>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<FollowEscalations>,
    page: Query<PageParams>,
    filters: Query<EscalationFilters>,
) -> Result<web::Json<Page<EscalationView>>, ApiError> {
    let page = page.validate()?;
    let filters = Filters {
        pathway: None,
        status: filters.status,
        overdue: filters.overdue.unwrap_or(false),
    };
    let who = caller.principal();
    let asked = serde_json::json!({
        "status": filters.status, "overdue": filters.overdue, "after": page.after,
    });
    let record = record::listing(
        caller.audit(),
        who,
        AuditAction::List,
        AuditTarget::Escalation,
        asked,
    );
    let mut conn = caller.conn().await?;
    let today = Utc::now().date_naive();
    let rows = escalations::list(&mut conn, who, filters, today, page, &record).await?;
    let views = rows.into_iter().map(EscalationView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |e| e.id)))
}

/// Read an escalation: staff of its pathway, or the organization it was
/// sent to. Any other answers 404.
#[utoipa::path(
    tag = "escalations",
    responses(
        (status = 200, description = "The escalation.", body = EscalationView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<FollowEscalations>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Escalation, *id);
    let row = escalations::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(escalations::not_found)?;
    Ok(respond(StatusCode::OK, row))
}

/// Move an escalation: `acknowledged`, then `answered` with the answer
/// (the recipient's partner client, or staff who steer the pathway
/// recording what the recipient said), or `closed` with why (the
/// département: the referent or a supervisor). Answering acknowledges too.
/// Requires `If-Match`; partners also send an `Idempotency-Key`.
#[utoipa::path(
    tag = "escalations",
    request_body = EscalationTransition,
    params(IfMatch),
    responses(
        (status = 200, description = "Moved; the escalation with its new `ETag`.", body = EscalationView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("/{id}/transitions")]
pub async fn transition(
    caller: Authorized<FollowEscalations>,
    id: web::Path<Uuid>,
    body: Json<EscalationTransition>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let change = body.0.parse()?;
    let mut conn = caller.conn().await?;
    let moved =
        services::escalations::advance(&mut conn, caller.acting(), *id, version, &change).await?;
    let row = escalations::shown_one(&mut conn, moved).await?;
    Ok(respond(StatusCode::OK, row))
}

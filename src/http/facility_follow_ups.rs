//! The orientation follow-up per facility, as the ANS guide « suivi des
//! décisions d'orientation » has facilities (ESMS) report it:
//! `/v1/decisions/{id}/facilities` (staff address an orientation to
//! facilities), `/v1/partner/orientations` (a facility's partner client
//! lists what is addressed to it), `/v1/facility-follow-ups/{id}` (read it,
//! with its history) and `/v1/facility-follow-ups/{id}/statuses` (report a
//! status, `If-Match`; partners also send an `Idempotency-Key`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::{FollowOrientations, FollowPathways, WorkOnCases};
use crate::db::facility_follow_ups::{
    self, Addressed, DecisionSummary, NewFollowUp, NewStatus, StatusRecord,
};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::facility_status::{self, Coding, Outcome};
use crate::domain::refusal::Refusal;
use crate::domain::validation::Checks;
use crate::domain::values;
use crate::domain::{DecisionKind, Qualification};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services;

/// What a facility is told of the decision addressed to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressedDecision {
    pub kind: DecisionKind,
    pub qualification: Qualification,
    /// What was decided, e.g. "Orientation en IME".
    pub label: String,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl From<DecisionSummary> for AddressedDecision {
    fn from(d: DecisionSummary) -> Self {
        Self {
            kind: d.kind,
            qualification: d.qualification,
            label: d.label,
            decided_on: d.decided_on,
            valid_until: d.valid_until,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityFollowUpView {
    pub id: Uuid,
    pub decision_id: Uuid,
    pub pathway_id: Uuid,
    /// The facility (an organization with a FINESS number).
    pub organization_id: Uuid,
    pub finess: String,
    /// The facility's unit, when known.
    pub unit: Option<String>,
    /// Where the person stands there: a code of TRE_R357 (value set
    /// JDV_J252), absent until a first status is reported.
    pub status: Option<Coding>,
    /// The status's reason: a code of TRE_R358 (value set JDV_J251).
    pub reason: Option<Coding>,
    /// The date the status took effect.
    pub status_on: Option<NaiveDate>,
    /// What the status says of the facility's answer; absent until a first
    /// status is reported (the facility has not answered yet).
    pub outcome: Option<Outcome>,
    pub decision: AddressedDecision,
    /// Send it back in `If-Match` to report a status.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Addressed> for FacilityFollowUpView {
    fn from(row: Addressed) -> Self {
        let f = row.follow_up;
        Self {
            id: f.id,
            decision_id: f.decision_id,
            pathway_id: f.pathway_id,
            organization_id: f.organization_id,
            finess: f.finess,
            unit: f.unit,
            outcome: f
                .status
                .as_deref()
                .and_then(facility_status::status)
                .map(|s| s.outcome),
            status: f.status.as_deref().map(facility_status::status_coding),
            reason: f.reason.as_deref().map(facility_status::reason_coding),
            status_on: f.status_on,
            decision: row.decision.into(),
            version: f.version,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// One status a follow-up went through.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityStatusView {
    pub status: Coding,
    pub reason: Option<Coding>,
    pub status_on: NaiveDate,
    /// The user or partner client who reported it.
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

impl From<StatusRecord> for FacilityStatusView {
    fn from(s: StatusRecord) -> Self {
        Self {
            status: facility_status::status_coding(&s.status),
            reason: s.reason.as_deref().map(facility_status::reason_coding),
            status_on: s.status_on,
            recorded_by: s.recorded_by,
            recorded_at: s.recorded_at,
        }
    }
}

/// A follow-up with every status it went through.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityFollowUpDetail {
    #[serde(flatten)]
    pub follow_up: FacilityFollowUpView,
    /// Oldest first.
    pub history: Vec<FacilityStatusView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressFacility {
    /// An organization with a FINESS number (a facility).
    pub organization_id: Uuid,
    /// The unit, when the decision names one (at most 200 characters).
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportStatus {
    #[schema(schema_with = status_schema)]
    pub status: Coding,
    #[schema(schema_with = reason_schema)]
    pub reason: Option<Coding>,
    /// When the status took effect: not before the decision nor the
    /// current status, not in the future.
    #[serde(deserialize_with = "values::date")]
    pub status_on: NaiveDate,
}

/// A coding of `system` whose code is one of `codes`, described by `table`:
/// the value sets as the document lists them, from the tables of
/// `domain::facility_status`.
fn coding_schema(
    system: &str,
    codes: Vec<&'static str>,
    description: String,
    nullable: bool,
) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let kind = if nullable {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::new(Type::Object)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .description(Some(description))
        .property(
            "system",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([system.to_owned()]))
                .description(Some("The code system's URL.")),
        )
        .required("system")
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes)),
        )
        .required("code")
        .property(
            "display",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "Ignored when sent: parcours gives the national label.",
                )),
        )
        .build()
}

fn status_schema() -> utoipa::openapi::schema::Object {
    let mut table = String::from(
        "A status of the value set JDV_J252 « Statut de la personne prise en charge au \
         sein d'un ESMS » (ANS), in the code system TRE_R357. A status listed with \
         reasons requires one of them in `reason` (association ASS_A32); the others \
         take none.\n\n| code | label | outcome | reasons |\n|---|---|---|---|\n",
    );
    for status in facility_status::STATUSES {
        let reasons = if status.reasons.is_empty() {
            "—".to_owned()
        } else {
            status.reasons.join(", ")
        };
        table.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            status.code,
            status.display,
            status.outcome.as_str(),
            reasons
        ));
    }
    coding_schema(
        facility_status::STATUS_SYSTEM,
        facility_status::STATUSES.iter().map(|s| s.code).collect(),
        table,
        false,
    )
}

fn reason_schema() -> utoipa::openapi::schema::Object {
    let mut table = String::from(
        "Required exactly when the status takes reasons (see `status`): one of its \
         reasons, from the value set JDV_J251 « Motif du statut de la personne prise en \
         charge au sein d'un ESMS » (ANS), in the code system TRE_R358.\n\n\
         | code | label |\n|---|---|\n",
    );
    for (code, label) in facility_status::REASONS {
        table.push_str(&format!("| `{code}` | {label} |\n"));
    }
    coding_schema(
        facility_status::REASON_SYSTEM,
        facility_status::REASONS
            .iter()
            .map(|(code, _)| *code)
            .collect(),
        table,
        true,
    )
}

fn respond(status: StatusCode, row: Addressed) -> HttpResponse {
    let (version, id) = (row.follow_up.version, row.follow_up.id);
    tagged(
        status,
        version,
        "/v1/facility-follow-ups",
        id,
        FacilityFollowUpView::from(row),
    )
}

/// Address an orientation to a facility. The facility's partner clients
/// then read it (`GET /v1/partner/orientations`), follow the pathway in
/// their feed and report its statuses. A decision has one follow-up per
/// facility, as the national SDO model has it, whatever its unit (a detail
/// of the follow-up): addressing it again to the same facility is 409, and
/// the indicators count each facility once per decision.
#[utoipa::path(
    tag = "orientations",
    request_body = AddressFacility,
    responses(
        (status = 201, description = "Addressed, with no status yet.", body = FacilityFollowUpView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/facilities")]
pub async fn address(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<AddressFacility>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let unit = body.unit.as_deref().map(|u| checks.text("unit", u, 200));
    checks.finish()?;
    let new = NewFollowUp {
        id: Uuid::now_v7(),
        decision_id: *id,
        organization_id: body.organization_id,
        unit,
    };
    let mut conn = caller.conn().await?;
    let follow_up =
        services::facility_follow_ups::address(&mut conn, caller.acting(), &new).await?;
    let row = facility_follow_ups::with_decision(&mut conn, follow_up).await?;
    Ok(respond(StatusCode::CREATED, row))
}

/// The facilities a decision is addressed to, oldest first.
#[utoipa::path(
    tag = "orientations",
    params(PageParams),
    responses(
        (status = 200, description = "One page of follow-ups.", body = Page<FacilityFollowUpView>),
    )
)]
#[get("/{id}/facilities")]
pub async fn of_decision(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<FacilityFollowUpView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let decision = facility_follow_ups::decision_in_scope(&mut conn, who, *id)
        .await?
        .ok_or_else(facility_follow_ups::decision_not_found);
    let (_, record) = record::listing_under(
        &mut conn,
        caller.audit(),
        who,
        AuditTarget::FacilityFollowUp,
        (AuditTarget::Decision, *id),
        decision,
    )
    .await?;
    let rows = facility_follow_ups::of_decision(&mut conn, *id, page, &record).await?;
    let views = rows.into_iter().map(FacilityFollowUpView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |f| f.id)))
}

/// The orientations addressed to your organization (a facility), oldest
/// first; none of a person who objected to sharing.
#[utoipa::path(
    tag = "partners",
    params(PageParams),
    responses(
        (status = 200, description = "One page of follow-ups.", body = Page<FacilityFollowUpView>),
    )
)]
#[get("/orientations")]
pub async fn addressed_to_me(
    caller: Authorized<FollowPathways>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<FacilityFollowUpView>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({ "cursor": page.after });
    let record = record::listing(
        caller.audit(),
        who,
        AuditAction::List,
        AuditTarget::FacilityFollowUp,
        asked,
    );
    let rows = facility_follow_ups::addressed_to_caller(&mut conn, who, page, &record).await?;
    let views = rows.into_iter().map(FacilityFollowUpView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |f| f.id)))
}

/// Read a follow-up with its history: staff of the pathway, or the
/// facility it is addressed to. Any other answers 404.
#[utoipa::path(
    tag = "orientations",
    responses(
        (status = 200, description = "The follow-up.", body = FacilityFollowUpDetail, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<FollowOrientations>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::FacilityFollowUp, *id);
    let row = facility_follow_ups::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(facility_follow_ups::not_found)?;
    let history = facility_follow_ups::history(&mut conn, row.follow_up.id)
        .await?
        .into_iter()
        .map(FacilityStatusView::from)
        .collect();
    let (version, id) = (row.follow_up.version, row.follow_up.id);
    let detail = FacilityFollowUpDetail {
        follow_up: row.into(),
        history,
    };
    Ok(tagged(
        StatusCode::OK,
        version,
        "/v1/facility-follow-ups",
        id,
        detail,
    ))
}

/// Report where the person stands in the facility: a status of JDV_J252
/// with, where the national association requires one, its reason.
/// Requires `If-Match`; the facility follows only what is addressed to it.
#[utoipa::path(
    tag = "orientations",
    request_body = ReportStatus,
    params(IfMatch),
    responses(
        (status = 200, description = "Reported; the follow-up with its new `ETag`.", body = FacilityFollowUpView, headers(("ETag" = String))),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/statuses")]
pub async fn report(
    caller: Authorized<FollowOrientations>,
    id: web::Path<Uuid>,
    body: Json<ReportStatus>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    if body.status_on > Utc::now().date_naive() {
        checks.fail("status_on", "must not be in the future");
    }
    let parsed = facility_status::parse(&body.status, body.reason.as_ref());
    if let Err(rejected) = &parsed {
        checks.fail(rejected.field, rejected.message.clone());
    }
    checks.finish()?;
    let status = parsed.map_err(Refusal::from)?;
    let new = NewStatus {
        id: Uuid::now_v7(),
        status,
        status_on: body.status_on,
    };
    let mut conn = caller.conn().await?;
    let follow_up =
        services::facility_follow_ups::report(&mut conn, caller.acting(), *id, version, &new)
            .await?;
    let row = facility_follow_ups::with_decision(&mut conn, follow_up).await?;
    Ok(respond(StatusCode::OK, row))
}

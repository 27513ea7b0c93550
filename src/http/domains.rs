//! `/v1/domains`: the rollout calendar, read by every role, changed by admins.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::policy::{ManageReferenceData, ReadReferenceData};
use crate::db::domain_calendar::{self, Opening};
use crate::domain::Domain;
use crate::domain::rollout::{is_open, rollout_year};
use crate::domain::validation::Checks;
use crate::domain::values;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, etag};
use crate::http::extract::Json;
use crate::services;

/// A domain and where it stands in the rollout.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainState {
    pub domain: Domain,
    /// From this date on, pathways can be opened in the domain.
    #[schema(example = "2017-01-01")]
    pub opens_on: NaiveDate,
    /// The year the domain opened, by which indicators are reported.
    #[schema(example = 2017)]
    pub rollout_year: i32,
    /// Whether the domain is open today.
    pub open: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Calendar {
    /// In opening order.
    pub items: Vec<DomainState>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    #[schema(example = "2021-01-01")]
    #[serde(deserialize_with = "values::date")]
    pub opens_on: NaiveDate,
}

fn describe(opening: &Opening) -> DomainState {
    DomainState {
        domain: opening.domain,
        opens_on: opening.opens_on,
        rollout_year: rollout_year(opening.opens_on),
        open: is_open(opening.opens_on, Utc::now().date_naive()),
        updated_at: opening.updated_at,
    }
}

fn respond(status: StatusCode, opening: &Opening) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::ETAG, etag(opening.version)))
        .json(describe(opening))
}

/// The rollout calendar: each domain's opening date and whether it is open.
#[utoipa::path(
    tag = "reference data",
    responses(
        (status = 200, description = "The four domains.", body = Calendar),
    )
)]
#[get("")]
pub async fn list(caller: Authorized<ReadReferenceData>) -> Result<web::Json<Calendar>, ApiError> {
    let mut conn = caller.conn().await?;
    let items = domain_calendar::all(&mut conn)
        .await?
        .iter()
        .map(describe)
        .collect();
    Ok(web::Json(Calendar { items }))
}

/// One domain of the calendar, with its ETag.
#[utoipa::path(
    tag = "reference data",
    params(("domain" = Domain, Path, description = "`disability`, `elderly`, `childhood` or `insertion`.")),
    responses(
        (status = 200, description = "The domain.", body = DomainState, headers(("ETag" = String))),
    )
)]
#[get("/{domain}")]
pub async fn read(
    caller: Authorized<ReadReferenceData>,
    domain: web::Path<Domain>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let opening = domain_calendar::find(&mut conn, *domain)
        .await?
        .ok_or_else(|| ApiError::not_found("This domain has no opening date."))?;
    Ok(respond(StatusCode::OK, &opening))
}

/// Move a domain's opening date (admin). Requires `If-Match`. Pathways
/// already open stay open; new ones follow the new date.
#[utoipa::path(
    tag = "reference data",
    params(
        ("domain" = Domain, Path, description = "`disability`, `elderly`, `childhood` or `insertion`."),
        IfMatch,
    ),
    request_body = Reschedule,
    responses(
        (status = 200, description = "Rescheduled.", body = DomainState, headers(("ETag" = String))),
    )
)]
#[put("/{domain}")]
pub async fn reschedule(
    caller: Authorized<ManageReferenceData>,
    domain: web::Path<Domain>,
    body: Json<Reschedule>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let mut checks = Checks::new();
    if body.0.opens_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default() {
        checks.fail("opens_on", "must be on or after 2000-01-01");
    }
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let (by, opens_on) = (caller.acting(), body.0.opens_on);
    let opening =
        services::reference_data::reschedule_domain(&mut conn, by, *domain, version, opens_on)
            .await?;
    Ok(respond(StatusCode::OK, &opening))
}

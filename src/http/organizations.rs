//! `/v1/organizations`: read by every role, written by admins.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy::{ManageReferenceData, ReadReferenceData};
use crate::db::organizations::{self, NewOrganization, Organization, OrganizationChanges};
use crate::domain::OrganizationKind;
use crate::domain::validation::is_finess;
use crate::domain::validation::{Checks, is_digits};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    pub kind: OrganizationKind,
    #[schema(example = "Association Les Tilleuls")]
    pub name: String,
    pub siret: Option<String>,
    pub finess: Option<String>,
}

/// Absent fields stay as they are; `null` clears SIRET or FINESS.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    pub name: Option<String>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub siret: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub finess: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilters {
    pub kind: Option<OrganizationKind>,
}

fn check_identifiers(
    checks: &mut Checks,
    siret: Option<&str>,
    finess: Option<&str>,
) -> (Option<String>, Option<String>) {
    let siret = siret.map(|s| checks.pattern("siret", s, |v| is_digits(v, 14), "14 digits"));
    let finess = finess.map(|f| {
        checks.pattern(
            "finess",
            f,
            is_finess,
            "9 characters: digits, the second may be A or B",
        )
    });
    (siret, finess)
}

fn respond(status: StatusCode, organization: &Organization) -> HttpResponse {
    tagged(
        status,
        organization.version,
        "/v1/organizations",
        organization.id,
        organization,
    )
}

/// List the organizations.
#[utoipa::path(
    tag = "reference data",
    params(PageParams, OrganizationFilters),
    responses(
        (status = 200, description = "One page of organizations.", body = Page<Organization>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ReadReferenceData>,
    page: Query<PageParams>,
    filters: Query<OrganizationFilters>,
) -> Result<web::Json<Page<Organization>>, ApiError> {
    let page = page.validate()?;
    let mut conn = caller.conn().await?;
    let rows = organizations::list(&mut conn, page, filters.kind).await?;
    Ok(web::Json(Page::from_rows(rows, page, |o| o.id)))
}

/// Read one organization.
#[utoipa::path(
    tag = "reference data",
    responses(
        (status = 200, description = "The organization.", body = Organization, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<ReadReferenceData>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let organization = organizations::find(&mut conn, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such organization."))?;
    Ok(respond(StatusCode::OK, &organization))
}

/// Create an organization (admin).
#[utoipa::path(
    tag = "reference data",
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created.", body = Organization, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<ManageReferenceData>,
    body: Json<CreateOrganization>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let name = checks.text("name", &body.name, 200);
    let (siret, finess) =
        check_identifiers(&mut checks, body.siret.as_deref(), body.finess.as_deref());
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let new = NewOrganization {
        id: Uuid::now_v7(),
        kind: body.kind,
        name,
        siret,
        finess,
    };
    let organization =
        services::reference_data::create_organization(&mut conn, caller.acting(), &new).await?;
    Ok(respond(StatusCode::CREATED, &organization))
}

/// Change an organization (admin). Requires `If-Match`.
#[utoipa::path(
    tag = "reference data",
    request_body = UpdateOrganization,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = Organization, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<ManageReferenceData>,
    id: web::Path<Uuid>,
    body: Json<UpdateOrganization>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    let name = body.name.as_deref().map(|n| checks.text("name", n, 200));
    let (siret, _) = check_identifiers(
        &mut checks,
        body.siret.as_ref().and_then(|s| s.as_deref()),
        None,
    );
    let (_, finess) = check_identifiers(
        &mut checks,
        None,
        body.finess.as_ref().and_then(|f| f.as_deref()),
    );
    checks.finish()?;
    let changes = OrganizationChanges {
        name,
        siret: body.siret.map(|given| given.and(siret)),
        finess: body.finess.map(|given| given.and(finess)),
    };
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let organization =
        services::reference_data::update_organization(&mut conn, by, *id, version, &changes)
            .await?;
    Ok(respond(StatusCode::OK, &organization))
}

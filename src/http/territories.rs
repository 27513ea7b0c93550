//! `/v1/territories`: read by every role, written by admins.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::{ManageReferenceData, ReadReferenceData};
use crate::db::territories::{self, NewTerritory, Territory};
use crate::domain::validation::Checks;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTerritory {
    /// Upper-case letters, digits and dashes, up to 32 (e.g. `05-GAP`); never changes.
    #[schema(example = "05-QUE")]
    pub code: String,
    #[schema(example = "Queyras")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTerritory {
    pub name: String,
}

fn is_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && code.len() <= 32
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

fn respond(status: StatusCode, territory: &Territory) -> HttpResponse {
    tagged(
        status,
        territory.version,
        "/v1/territories",
        territory.id,
        territory,
    )
}

/// List the territories.
#[utoipa::path(
    tag = "reference data",
    params(PageParams),
    responses(
        (status = 200, description = "One page of territories, in creation order.", body = Page<Territory>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ReadReferenceData>,
    params: Query<PageParams>,
) -> Result<web::Json<Page<Territory>>, ApiError> {
    let page = params.validate()?;
    let mut conn = caller.conn().await?;
    let rows = territories::list(&mut conn, page).await?;
    Ok(web::Json(Page::from_rows(rows, page, |t| t.id)))
}

/// Read one territory.
#[utoipa::path(
    tag = "reference data",
    responses(
        (status = 200, description = "The territory.", body = Territory,
            headers(("ETag" = String, description = "Version, for If-Match."))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<ReadReferenceData>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let territory = territories::find(&mut conn, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such territory."))?;
    Ok(respond(StatusCode::OK, &territory))
}

/// Create a territory (admin).
#[utoipa::path(
    tag = "reference data",
    request_body = CreateTerritory,
    responses(
        (status = 201, description = "Created.", body = Territory,
            headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<ManageReferenceData>,
    body: Json<CreateTerritory>,
) -> Result<HttpResponse, ApiError> {
    let mut checks = Checks::new();
    let code = checks.pattern(
        "code",
        &body.0.code,
        is_code,
        "upper-case letters, digits and dashes, up to 32",
    );
    let name = checks.text("name", &body.0.name, 200);
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let new = NewTerritory {
        id: Uuid::now_v7(),
        code,
        name,
    };
    let territory =
        services::reference_data::create_territory(&mut conn, caller.acting(), &new).await?;
    Ok(respond(StatusCode::CREATED, &territory))
}

/// Rename a territory (admin). Requires `If-Match`.
#[utoipa::path(
    tag = "reference data",
    request_body = UpdateTerritory,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = Territory, headers(("ETag" = String))),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<ManageReferenceData>,
    id: web::Path<Uuid>,
    body: Json<UpdateTerritory>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let mut checks = Checks::new();
    let name = checks.text("name", &body.0.name, 200);
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let territory =
        services::reference_data::rename_territory(&mut conn, by, *id, version, &name).await?;
    Ok(respond(StatusCode::OK, &territory))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes() {
        assert!(super::is_code("05-GAP"));
        for bad in ["", "-05", "05 GAP", "gap", &"A".repeat(33)] {
            assert!(!super::is_code(bad), "{bad}");
        }
    }
}

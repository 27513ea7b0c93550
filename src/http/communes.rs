//! `/v1/communes`: the official geographic code, read by every role, and
//! the territory of each commune, moved by admins.

use actix_web::{get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy::{ManageReferenceData, ReadReferenceData};
use crate::db::communes::{self, Covered, Filter};
use crate::domain::validation::Checks;
use crate::domain::values::{CommuneCode, DepartmentCode};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services;

/// A commune of the official geographic code (INSEE COG 2026).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommuneView {
    /// INSEE code (not the postcode).
    #[schema(example = "05061")]
    pub insee: String,
    #[schema(example = "Gap")]
    pub name: String,
    /// Département code: two digits, 2A/2B, or three digits overseas.
    #[schema(example = "05")]
    pub department: String,
    /// The intercommunality (EPCI with its own taxation) the commune
    /// belongs to; `null` for the few communes in none (islands).
    pub intercommunality: Option<Intercommunality>,
    /// The territory whose staff follow the commune's residents and take
    /// its referrals; `null` for a commune outside the département, which
    /// neither a referral nor a person may name.
    pub territory: Option<TerritoryRef>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Intercommunality {
    /// SIREN of the EPCI.
    #[schema(example = "200067825")]
    pub siren: String,
    #[schema(example = "CA Gap-Tallard-Durance")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TerritoryRef {
    pub id: Uuid,
    #[schema(example = "05-GAP")]
    pub code: String,
}

impl From<Covered> for CommuneView {
    fn from((commune, territory_code): Covered) -> Self {
        let intercommunality = commune
            .epci
            .zip(commune.epci_name)
            .map(|(siren, name)| Intercommunality { siren, name });
        let territory = commune
            .territory_id
            .zip(territory_code)
            .map(|(id, code)| TerritoryRef { id, code });
        Self {
            insee: commune.insee,
            name: commune.name,
            department: commune.department,
            intercommunality,
            territory,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommuneFilter {
    /// Only the communes of this département (`05`).
    #[param(inline)]
    pub department: Option<DepartmentCode>,
    /// Only the communes this territory covers (its id).
    pub territory: Option<Uuid>,
    /// Part of the name, whatever the case, accents, dashes or apostrophes
    /// (`saint etienne` finds Saint-Étienne-le-Laus), or the start of the
    /// INSEE code (`0506`); 2 to 100 characters.
    #[param(min_length = 2, max_length = 100)]
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveCommune {
    /// The territory that covers the commune from now on.
    pub territory_id: Uuid,
}

/// List the communes.
///
/// Every current commune of France, in INSEE code order, from the official
/// geographic code (INSEE COG 2026 as `@etalab/decoupage-administratif`
/// 6.0.0 ships it). A referral's commune decides the territory that takes
/// it, and a person's commune must be one their territory covers: this
/// list says which. By default each Hautes-Alpes commune belongs to the
/// territory of its intercommunality.
#[utoipa::path(
    tag = "reference data",
    params(CommuneFilter, PageParams),
    responses(
        (status = 200, description = "One page of communes, in INSEE code order.",
            body = Page<CommuneView>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ReadReferenceData>,
    filter: Query<CommuneFilter>,
    params: Query<PageParams>,
) -> Result<web::Json<Page<CommuneView>>, ApiError> {
    let (limit, after) = params.validate_by::<String>()?;
    let filter = filter.into_inner();
    let mut checks = Checks::new();
    let text = filter.q.map(|q| checks.text("q", &q, 100));
    if text.as_ref().is_some_and(|q| q.chars().count() < 2) {
        checks.fail("q", "must be at least 2 characters");
    }
    checks.finish()?;
    let filter = Filter {
        department: filter.department.map(DepartmentCode::into_string),
        territory: filter.territory,
        text,
    };
    let mut conn = caller.conn().await?;
    let rows = communes::list(&mut conn, &filter, limit, after.as_deref()).await?;
    let views = rows.into_iter().map(CommuneView::from).collect();
    Ok(web::Json(Page::from_keyed_rows(views, limit, |c| {
        c.insee.clone()
    })))
}

/// Read one commune.
#[utoipa::path(
    tag = "reference data",
    params(("insee" = String, Path, description = "INSEE code of the commune.",
        pattern = "^([0-9]{2}|2A|2B)[0-9]{3}$", example = "05061")),
    responses(
        (status = 200, description = "The commune.", body = CommuneView),
        (status = 404, response = crate::http::responses::NotFound),
    )
)]
#[get("/{insee}")]
pub async fn read(
    caller: Authorized<ReadReferenceData>,
    insee: web::Path<CommuneCode>,
) -> Result<web::Json<CommuneView>, ApiError> {
    let mut conn = caller.conn().await?;
    let commune = communes::find(&mut conn, &insee)
        .await?
        .ok_or_else(|| ApiError::not_found("No such commune."))?;
    Ok(web::Json(commune.into()))
}

/// Move a commune to another territory (admin).
///
/// From then on its referrals go to that territory's queue and a person
/// recorded there belongs to that territory. Nobody already recorded moves:
/// persons and their pathways stay with their territory and referent until
/// their commune or territory is changed. Audited with the territory before
/// and after.
#[utoipa::path(
    tag = "reference data",
    params(("insee" = String, Path, description = "INSEE code of the commune.",
        pattern = "^([0-9]{2}|2A|2B)[0-9]{3}$", example = "05061")),
    request_body = MoveCommune,
    responses(
        (status = 200, description = "The commune, now in that territory.", body = CommuneView),
        (status = 404, response = crate::http::responses::NotFound),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[put("/{insee}/territory")]
pub async fn move_to_territory(
    caller: Authorized<ManageReferenceData>,
    insee: web::Path<CommuneCode>,
    body: Json<MoveCommune>,
) -> Result<web::Json<CommuneView>, ApiError> {
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let territory = body.0.territory_id;
    let moved = services::reference_data::move_commune(&mut conn, by, &insee, territory).await?;
    Ok(web::Json(moved.into()))
}

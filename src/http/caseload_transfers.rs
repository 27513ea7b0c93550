//! `/v1/caseload-transfers`: a supervisor hands the open pathways of one
//! referent to another (staff turnover), all at once or a domain or a
//! territory at a time, after a dry run that lists what would move.

use actix_web::{post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::AssignReferent;
use crate::db::pathways::{Caseload, Transferred};
use crate::domain::Domain;
use crate::domain::validation::Checks;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::Json;
use crate::services;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferCaseload {
    /// The referent whose open pathways move (in your territories and
    /// domains; at most 1 000 a call).
    pub from_referent_id: Uuid,
    /// Who follows them from now on: an active coordinator or supervisor;
    /// pathways of a territory or domain they do not work in stay.
    pub to_referent_id: Uuid,
    /// Only the pathways of this domain.
    pub domain: Option<Domain>,
    /// Only the pathways of this territory.
    pub territory: Option<Uuid>,
    /// `true`: list what would move, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseloadTransfer {
    pub dry_run: bool,
    /// The pathways handed to the new referent (or that would be), each
    /// with a `referent_assigned` event in its timeline.
    pub moved: Vec<Uuid>,
    /// The pathways left with the former referent: the new one does not
    /// work in their territory and domain.
    pub left: Vec<Uuid>,
}

/// Hand one referent's open pathways to another (supervisors), in one
/// transaction and one audit record naming every pathway moved. Send
/// `dry_run: true` first to see what would move. A second transfer finds
/// nothing left to move, so a retry is harmless (no `Idempotency-Key`).
#[utoipa::path(
    tag = "pathways",
    request_body = TransferCaseload,
    responses(
        (status = 200, description = "Moved, or what would move.", body = CaseloadTransfer),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("")]
pub async fn transfer(
    caller: Authorized<AssignReferent>,
    body: Json<TransferCaseload>,
) -> Result<web::Json<CaseloadTransfer>, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    if body.from_referent_id == body.to_referent_id {
        checks.fail("to_referent_id", "must be another referent");
    }
    checks.finish()?;
    let caseload = Caseload {
        referent: body.from_referent_id,
        domain: body.domain,
        territory: body.territory,
    };
    let mut conn = caller.conn().await?;
    let (by, to) = (caller.acting(), body.to_referent_id);
    let Transferred { moved, left } =
        services::pathways::transfer_caseload(&mut conn, by, caseload, to, body.dry_run).await?;
    Ok(web::Json(CaseloadTransfer {
        dry_run: body.dry_run,
        moved,
        left,
    }))
}

//! `/v1/referrals`: partners (CAF, MSA) signal a person to the département
//! and follow where the referral stands — never the person's file.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Json;
use crate::audit::AuditContext;
use crate::audit::record;
use crate::auth::Authorized;
use crate::auth::policy::ReferPersons;
use crate::db::referrals::{self, Incoming, Standing};
use crate::db::schema::organizations;
use crate::domain::nir::Nir;
use crate::domain::validation::{Checks, is_commune_code, is_digits, is_msa_number};
use crate::domain::{Domain, OrganizationKind, PathwayStatus};
use crate::error::ApiError;
use crate::startup::AppState;
use diesel_async::AsyncConnection;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    /// INSEE code of the commune of residence; it decides the territory.
    #[schema(example = "05061")]
    pub commune_insee: String,
    /// Your identifier of the person: the CAF « matricule allocataire »
    /// (7 digits) or the MSA number.
    pub partner_number: Option<String>,
    /// Optional; checked with its control key, stored encrypted.
    pub nir: Option<String>,
    pub domain: Domain,
    /// Why you refer the person.
    pub reason: String,
    /// Whom the département can call back at your organization.
    pub contact: Option<String>,
}

/// Where a referral stands, in coarse terms.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Received; nothing more is shared (the person objected to sharing).
    Received,
    /// Being assessed or oriented.
    InProgress,
    /// Oriented, but no solution is in place yet.
    WithoutSolution,
    /// A solution is in place.
    Supported,
    /// The pathway is closed.
    Closed,
}

/// A referral's receipt: where it stands and which service follows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralReceipt {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub domain: Domain,
    pub status: ReferralStatus,
    /// The département's service (territory) that follows the person; absent
    /// when the person objected to sharing.
    #[schema(example = "Gapençais")]
    pub service: Option<String>,
}

/// A pathway status as partners see it.
pub fn coarse(status: PathwayStatus) -> ReferralStatus {
    match status {
        PathwayStatus::Referred | PathwayStatus::Assessment | PathwayStatus::Orientation => {
            ReferralStatus::InProgress
        }
        PathwayStatus::WithoutSolution => ReferralStatus::WithoutSolution,
        PathwayStatus::Supported => ReferralStatus::Supported,
        PathwayStatus::Closed => ReferralStatus::Closed,
    }
}

impl From<Standing> for ReferralReceipt {
    fn from(s: Standing) -> Self {
        let status = if s.sharing_objection {
            ReferralStatus::Received
        } else {
            coarse(s.pathway_status)
        };
        Self {
            id: s.referral.id,
            received_at: s.referral.received_at,
            domain: s.referral.domain,
            status,
            service: (!s.sharing_objection).then_some(s.service),
        }
    }
}

/// The partner client's organization (403 for a client without one).
pub fn organization_of(caller: &crate::auth::Principal) -> Result<Uuid, ApiError> {
    caller
        .organization
        .ok_or_else(|| ApiError::forbidden("This client belongs to no organization."))
}

/// Refer a person (partner clients). The person is matched — by your number
/// and birth date, then NIR, then a close name and birth date — or recorded;
/// a `referred` pathway is opened in the commune's territory, or the
/// referral joins the pathway already open in that domain. Send an
/// `Idempotency-Key`: a retry answers the first receipt.
#[utoipa::path(
    tag = "referrals",
    request_body = CreateReferral,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Received.", body = ReferralReceipt, headers(("Location" = String))),
        (status = 400, response = crate::api::responses::Invalid),
        (status = 401, response = crate::api::responses::Unauthenticated),
        (status = 403, response = crate::api::responses::Forbidden),
        (status = 409, response = crate::api::responses::Conflict),
        (status = 422, response = crate::api::responses::Unprocessable),
    )
)]
#[post("/v1/referrals")]
pub async fn create(
    caller: Authorized<ReferPersons>,
    audit: AuditContext,
    body: Json<CreateReferral>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let organization = organization_of(who)?;
    let body = body.0;
    let mut conn = state.pool.get().await?;
    let kind: OrganizationKind = organizations::table
        .find(organization)
        .select(organizations::kind)
        .first(&mut conn)
        .await?;
    let mut checks = Checks::new();
    let family_name = checks.text("family_name", &body.family_name, 200);
    let given_names = checks.text("given_names", &body.given_names, 200);
    if body.birth_date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
        || body.birth_date > Utc::now().date_naive()
    {
        checks.fail("birth_date", "must be between 1900-01-01 and today");
    }
    let commune_insee = checks.pattern(
        "commune_insee",
        &body.commune_insee,
        is_commune_code,
        "an INSEE commune code such as 05061",
    );
    let partner_number = body.partner_number.as_deref().map(|n| match kind {
        OrganizationKind::Msa => checks.pattern(
            "partner_number",
            n,
            is_msa_number,
            "an MSA number: 6 to 20 digits or capital letters",
        ),
        _ => checks.pattern(
            "partner_number",
            n,
            |v| is_digits(v, 7),
            "a CAF number: 7 digits",
        ),
    });
    let nir = body.nir.as_deref().and_then(|n| match Nir::parse(n) {
        Ok(nir) => Some(nir),
        Err(why) => {
            checks.fail("nir", why);
            None
        }
    });
    let reason = checks.text("reason", &body.reason, 2000);
    let contact = body
        .contact
        .as_deref()
        .map(|c| checks.text("contact", c, 300));
    checks.finish()?;
    let incoming = Incoming {
        client_id: who.subject.id(),
        organization_id: organization,
        organization_kind: kind,
        family_name,
        given_names,
        birth_date: body.birth_date,
        commune_insee,
        partner_number,
        nir,
        domain: body.domain,
        reason,
        contact,
    };
    // Recorded on the pathway, so that it shows in the person's access log.
    let received = conn
        .transaction(async |conn| {
            let standing = referrals::receive(conn, &state.privacy, &incoming).await?;
            let pathway = standing.referral.pathway_id;
            record::changed(conn, &audit, who, "refer", "pathway", pathway).await?;
            Ok::<_, ApiError>(standing)
        })
        .await;
    let target = ("pathway", None);
    let standing = record::settled(&mut conn, &audit, who, "refer", target, received).await?;
    let receipt = ReferralReceipt::from(standing);
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::LOCATION, format!("/v1/referrals/{}", receipt.id)))
        .json(receipt))
}

/// Where one of your organization's referrals stands. Others answer 404.
#[utoipa::path(
    tag = "referrals",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The receipt.", body = ReferralReceipt),
        (status = 400, response = crate::api::responses::Invalid),
        (status = 401, response = crate::api::responses::Unauthenticated),
        (status = 403, response = crate::api::responses::Forbidden),
        (status = 404, response = crate::api::responses::NotFound),
    )
)]
#[get("/v1/referrals/{id}")]
pub async fn read(
    caller: Authorized<ReferPersons>,
    audit: AuditContext,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<ReferralReceipt>, ApiError> {
    let who = caller.principal();
    let organization = organization_of(who)?;
    let mut conn = state.pool.get().await?;
    let record = record::reading(&audit, who, "referral", *id);
    let standing = referrals::standing(&mut conn, *id, organization, Some(&record))
        .await?
        .ok_or_else(|| ApiError::not_found("No such referral of your organization."))?;
    Ok(web::Json(standing.into()))
}

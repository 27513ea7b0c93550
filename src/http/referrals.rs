//! `/v1/referrals`: partners (CAF, MSA) signal a person to the département;
//! the staff of the commune's territory triage them.
//!
//! A receipt says that the referral was received, then accepted or declined
//! (with a coded reason) — never whether the person or a pathway already
//! existed, nor its status, territory or history. The partner follows the
//! pathway only once its referral is accepted, and only from then on.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::{ReferPersons, TriageReferrals};
use crate::db::organizations;
use crate::db::referrals::{self, Incoming, QueueFilters, Receipt, Referral};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::nir::Nir;
use crate::domain::validation::{Checks, is_digits, is_msa_number};
use crate::domain::values::{self, CommuneCode};
use crate::domain::{Domain, OrganizationKind, ReferralDeclineReason, ReferralStatus};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::state::AppState;
use crate::privacy::PersonalDataKeys;
use crate::services;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReferral {
    pub family_name: String,
    pub given_names: String,
    #[serde(deserialize_with = "values::date")]
    pub birth_date: NaiveDate,
    /// INSEE code of the commune of residence; it decides the territory
    /// whose staff triage the referral.
    #[schema(example = "05061")]
    pub commune_insee: CommuneCode,
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

/// A referral's receipt: that it was received, and what the département
/// decided. Nothing about the person or what the département knew before.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralReceipt {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub domain: Domain,
    /// `pending` until the département decides.
    pub status: ReferralStatus,
    /// When it was accepted or declined.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was declined.
    pub decline_reason: Option<ReferralDeclineReason>,
    /// Once accepted: the pathway you now follow
    /// (`GET /v1/partner/pathways/{id}`, and the feed from the acceptance
    /// on). Absent while pending or declined, and when the person objected
    /// to sharing.
    pub pathway_id: Option<Uuid>,
}

impl From<Receipt> for ReferralReceipt {
    fn from(r: Receipt) -> Self {
        let referral = r.referral;
        Self {
            id: referral.id,
            received_at: referral.received_at,
            domain: referral.domain,
            status: referral.status,
            decided_at: referral.decided_at,
            decline_reason: referral.decline_reason,
            pathway_id: referral.pathway_id.filter(|_| !r.sharing_objection),
        }
    }
}

/// The partner client's organization (403 for a client without one).
pub fn organization_of(caller: &crate::auth::Principal) -> Result<Uuid, ApiError> {
    caller
        .organization
        .ok_or_else(|| ApiError::forbidden("This client belongs to no organization."))
}

/// Refer a person (partner clients). The referral is queued for the staff
/// of the commune's territory, who accept or decline it; its receipt
/// (`GET /v1/referrals/{id}`) and your feed tell you which. Send an
/// `Idempotency-Key`: a retry answers the first receipt.
#[utoipa::path(
    tag = "referrals",
    request_body = CreateReferral,
    responses(
        (status = 201, description = "Received and queued.", body = ReferralReceipt, headers(("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<ReferPersons>,
    body: Json<CreateReferral>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let organization = organization_of(who)?;
    let body = body.0;
    let mut conn = caller.conn().await?;
    let kind = organizations::find(&mut conn, organization)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a client without its organization")))?
        .kind;
    let mut checks = Checks::new();
    let family_name = checks.text("family_name", &body.family_name, 200);
    let given_names = checks.text("given_names", &body.given_names, 200);
    if body.birth_date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
        || body.birth_date > Utc::now().date_naive()
    {
        checks.fail("birth_date", "must be between 1900-01-01 and today");
    }
    let commune_insee = body.commune_insee.into_string();
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
    let referral =
        services::referrals::receive(&mut conn, caller.acting(), &state.privacy, &incoming).await?;
    let receipt = ReferralReceipt::from(Receipt {
        referral,
        sharing_objection: false,
    });
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::LOCATION, format!("/v1/referrals/{}", receipt.id)))
        .json(receipt))
}

/// Where one of your organization's referrals stands. Others answer 404.
#[utoipa::path(
    tag = "referrals",
    responses(
        (status = 200, description = "The receipt.", body = ReferralReceipt),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<ReferPersons>,
    id: web::Path<Uuid>,
) -> Result<web::Json<ReferralReceipt>, ApiError> {
    let who = caller.principal();
    let organization = organization_of(who)?;
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Referral, *id);
    let receipt = referrals::receipt(&mut conn, *id, organization, &record)
        .await?
        .ok_or_else(|| ApiError::not_found("No such referral of your organization."))?;
    Ok(web::Json(receipt.into()))
}

/// A referral as the staff who triage it see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedReferral {
    pub id: Uuid,
    /// The referring organization.
    pub organization_id: Uuid,
    pub domain: Domain,
    /// The territory whose staff triage it (the commune's).
    pub territory_id: Uuid,
    pub status: ReferralStatus,
    pub received_at: DateTime<Utc>,
    /// The person as the partner described them.
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub commune_insee: String,
    /// The partner's identifier of the person (CAF or MSA number).
    pub partner_number: Option<String>,
    /// The NIR the partner gave, masked.
    #[schema(example = "1 85 05 ** *** *** 91")]
    pub nir: Option<String>,
    pub reason: String,
    pub contact: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The staff member who accepted or declined it.
    pub decided_by: Option<Uuid>,
    pub decline_reason: Option<ReferralDeclineReason>,
    pub decision_comment: Option<String>,
    /// Once accepted: the person and the pathway.
    pub person_id: Option<Uuid>,
    pub pathway_id: Option<Uuid>,
    /// Once accepted: whether the person was already known, and whether
    /// the pathway was opened by it (or was already open).
    pub person_matched: Option<bool>,
    pub pathway_opened: Option<bool>,
}

fn queued(referral: Referral, keys: &PersonalDataKeys) -> QueuedReferral {
    let nir = referral
        .nir_ciphertext
        .as_deref()
        .and_then(|sealed| keys.decrypt_nir(referral.id, sealed))
        .map(|nir| nir.masked());
    QueuedReferral {
        id: referral.id,
        organization_id: referral.organization_id,
        domain: referral.domain,
        territory_id: referral.territory_id,
        status: referral.status,
        received_at: referral.received_at,
        family_name: referral.family_name,
        given_names: referral.given_names,
        birth_date: referral.birth_date,
        commune_insee: referral.commune_insee,
        partner_number: referral.partner_number,
        nir,
        reason: referral.reason,
        contact: referral.contact,
        decided_at: referral.decided_at,
        decided_by: referral.decided_by,
        decline_reason: referral.decline_reason,
        decision_comment: referral.decision_comment,
        person_id: referral.person_id,
        pathway_id: referral.pathway_id,
        person_matched: referral.person_matched,
        pathway_opened: referral.pathway_opened,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// `pending` for the referrals waiting for a decision.
    pub status: Option<ReferralStatus>,
    pub domain: Option<Domain>,
    /// One of your territories.
    pub territory: Option<Uuid>,
}

/// The referrals of your territories and domains, oldest first: the queue
/// to triage with `?status=pending`. Audited.
#[utoipa::path(
    tag = "referrals",
    params(QueueParams, PageParams),
    responses(
        (status = 200, description = "One page of referrals.", body = Page<QueuedReferral>),
    )
)]
#[get("")]
pub async fn queue(
    caller: Authorized<TriageReferrals>,
    filters: Query<QueueParams>,
    page: Query<PageParams>,
    state: web::Data<AppState>,
) -> Result<web::Json<Page<QueuedReferral>>, ApiError> {
    let who = caller.principal();
    let page = page.validate()?;
    let filters = QueueFilters {
        status: filters.status,
        domain: filters.domain,
        territory: filters.territory,
    };
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({
        "status": filters.status, "domain": filters.domain,
        "territory": filters.territory, "cursor": page.after,
    });
    let record = record::listing(
        caller.audit(),
        who,
        AuditAction::List,
        AuditTarget::Referral,
        asked,
    );
    let rows = referrals::queue(&mut conn, who, &filters, page, &record).await?;
    let views = rows
        .into_iter()
        .map(|r| queued(r, &state.privacy))
        .collect();
    Ok(web::Json(Page::from_rows(views, page, |r| r.id)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptReferral {
    /// The person the referral concerns, if you identified them (one of
    /// your territories). Absent: parcours matches the partner's number
    /// with the birth date, then the NIR, then a close name with the birth
    /// date, among the persons of your territories, or records a new one.
    pub person_id: Option<Uuid>,
    /// Become the pathway's referent (a coordinator: only of a pathway
    /// that has none yet).
    #[serde(default)]
    pub take_as_referent: bool,
}

/// What accepting did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedReferral {
    #[serde(flatten)]
    pub referral: QueuedReferral,
    /// The partner's number differs from the one the person already had:
    /// the person's was kept; check with the partner.
    pub partner_number_differs: bool,
}

/// Accept a pending referral: the person is matched or recorded, a
/// `referred` pathway opened (or the open one of the domain joined), and
/// the referring partner follows it from now on. Audited; the partner's
/// feed gets `referral_accepted`.
#[utoipa::path(
    tag = "referrals",
    request_body = AcceptReferral,
    responses(
        (status = 200, description = "Accepted.", body = AcceptedReferral),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("/{id}/accept")]
pub async fn accept(
    caller: Authorized<TriageReferrals>,
    id: web::Path<Uuid>,
    body: Json<AcceptReferral>,
    state: web::Data<AppState>,
) -> Result<web::Json<AcceptedReferral>, ApiError> {
    let (person_id, take_as_referent) = (body.0.person_id, body.0.take_as_referent);
    let mut conn = caller.conn().await?;
    let keys = &state.privacy;
    let accepted = services::referrals::accept(
        &mut conn,
        caller.acting(),
        keys,
        *id,
        person_id,
        take_as_referent,
    )
    .await?;
    Ok(web::Json(AcceptedReferral {
        partner_number_differs: accepted.partner_number_differs,
        referral: queued(accepted.referral, &state.privacy),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineReferral {
    pub reason: ReferralDeclineReason,
    /// For the département's own record; never shown to the partner.
    pub comment: Option<String>,
}

/// Decline a pending referral with a coded reason. Nothing is opened; the
/// partner's receipt and feed (`referral_declined`) give the reason code.
/// Audited.
#[utoipa::path(
    tag = "referrals",
    request_body = DeclineReferral,
    responses(
        (status = 200, description = "Declined.", body = QueuedReferral),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("/{id}/decline")]
pub async fn decline(
    caller: Authorized<TriageReferrals>,
    id: web::Path<Uuid>,
    body: Json<DeclineReferral>,
    state: web::Data<AppState>,
) -> Result<web::Json<QueuedReferral>, ApiError> {
    let mut checks = Checks::new();
    let comment = body
        .0
        .comment
        .as_deref()
        .map(|c| checks.text("comment", c, 2000));
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let (reason, comment) = (body.0.reason, comment.as_deref());
    let declined =
        services::referrals::decline(&mut conn, caller.acting(), *id, reason, comment).await?;
    Ok(web::Json(queued(declined, &state.privacy)))
}

//! `/v1/partner/pathways`: the minimal view partners have of the pathways
//! they were given — through an accepted referral, a commitment or an
//! orientation addressed to them as a facility — from that moment on
//! (docs/DOMAIN.md, the roles): domain, status in coarse terms, dates, the following
//! service and their own commitments. Never the person, notes, decisions
//! (a facility reads those addressed to it, `/v1/partner/orientations`),
//! plans, meetings, other partners' commitments or what came before;
//! nothing at all of a person who objected to sharing.

use std::collections::HashMap;

use actix_web::{get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::FollowPathways;
use crate::db::partner_pathways::{self, Followed};
use crate::domain::Domain;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::http::caller::Authorized;
use crate::http::commitments::CommitmentView;
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageParams};
use crate::services::partner_events::{FollowedStatus, coarse};

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerPathway {
    pub id: Uuid,
    pub domain: Domain,
    /// Where the pathway stands, in the terms partners may know.
    pub status: FollowedStatus,
    /// Since when it has that status, or since when you follow it if that
    /// is later: nothing before is shared.
    pub status_since: DateTime<Utc>,
    /// Since when your organization follows it: the acceptance of its
    /// referral, its first commitment, or the first orientation addressed
    /// to it.
    pub followed_since: DateTime<Utc>,
    /// When it was opened, if that was while you follow it (the pathway
    /// was recorded at or after the instant you began following it: a
    /// pathway opened by the acceptance of your referral, say). A pathway
    /// you began to follow later the same day gives none.
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    /// The département's service (territory) that follows the person.
    #[schema(example = "Gapençais")]
    pub service: String,
    /// Your organization's commitments in its plans (read one with
    /// `GET /v1/commitments/{id}` for its `ETag`, then `PATCH` its status).
    pub commitments: Vec<CommitmentView>,
}

fn view(row: Followed, commitments: Vec<CommitmentView>) -> PartnerPathway {
    PartnerPathway {
        id: row.id,
        domain: row.domain,
        status: coarse(row.status),
        status_since: row.status_since.max(row.since),
        followed_since: row.since,
        opened_on: (row.opened_at >= row.since).then_some(row.opened_on),
        closed_on: row.closed_on,
        service: row.service,
        commitments,
    }
}

/// The pathways your organization follows, oldest first.
#[utoipa::path(
    tag = "partners",
    params(PageParams),
    responses(
        (status = 200, description = "One page of pathways.", body = Page<PartnerPathway>),
    )
)]
#[get("/pathways")]
pub async fn list(
    caller: Authorized<FollowPathways>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<PartnerPathway>>, ApiError> {
    let page = page.validate()?;
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({ "cursor": page.after });
    let record = record::listing(
        caller.audit(),
        who,
        AuditAction::List,
        AuditTarget::Pathway,
        asked,
    );
    let rows = partner_pathways::list(&mut conn, who, page, &record).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut commitments: HashMap<Uuid, Vec<CommitmentView>> = HashMap::new();
    for (pathway, commitment) in partner_pathways::commitments_in(&mut conn, who, &ids).await? {
        commitments
            .entry(pathway)
            .or_default()
            .push(commitment.into());
    }
    let views = rows
        .into_iter()
        .map(|row| {
            let own = commitments.remove(&row.id).unwrap_or_default();
            view(row, own)
        })
        .collect();
    Ok(web::Json(Page::from_rows(views, page, |p| p.id)))
}

/// One pathway your organization follows. Any other answers 404, as does
/// one whose person objected to sharing.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "The pathway, in minimal terms.", body = PartnerPathway),
    )
)]
#[get("/pathways/{id}")]
pub async fn read(
    caller: Authorized<FollowPathways>,
    id: web::Path<Uuid>,
) -> Result<web::Json<PartnerPathway>, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Pathway, *id);
    let row = partner_pathways::find(&mut conn, who, *id, &record)
        .await?
        .ok_or_else(|| ApiError::not_found("No such pathway followed by your organization."))?;
    let commitments = partner_pathways::commitments_in(&mut conn, who, &[row.id])
        .await?
        .into_iter()
        .map(|(_, commitment)| commitment.into())
        .collect();
    Ok(web::Json(view(row, commitments)))
}

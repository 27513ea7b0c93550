//! `GET /v1/feed`: what changed in the pathways a partner follows, in
//! minimal terms, resumable from any cursor (at-least-once, no gaps).

use actix_web::{get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::partner_pathways::{FollowedStatus, coarse};
use crate::api::referrals::organization_of;
use crate::audit::AuditContext;
use crate::audit::record;
use crate::auth::Authorized;
use crate::auth::policy::FollowPathways;
use crate::db::feed::{self, FeedRow};
use crate::domain::{CommitmentStatus, Domain, EventKind, PathwayStatus, ReferralDeclineReason};
use crate::error::{ApiError, FieldError};
use crate::startup::AppState;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// A `cursor` (of an event, or `next_cursor` of a page): events after it.
    /// Absent: from the beginning.
    pub after: Option<String>,
    /// Events per page, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// What happened, in the terms a partner may know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedEventKind {
    /// The pathway was opened.
    PathwayOpened,
    /// Its status changed (see `status`).
    StatusChanged,
    /// Your organization was given a commitment in its plan.
    CommitmentAdded,
    /// One of your organization's commitments changed status.
    CommitmentUpdated,
    /// Your organization referred the person for it (before triage).
    ReferralReceived,
    /// The département accepted your referral (`referral_id`) into this
    /// pathway: you follow it from this event on.
    ReferralAccepted,
    /// The département declined your referral (`referral_id`) for
    /// `decline_reason`; no pathway (`pathway_id` is absent).
    ReferralDeclined,
}

impl FeedEventKind {
    /// The timeline events partners may know of (the rest is the
    /// département's own business).
    pub fn of(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::PathwayOpened => Some(Self::PathwayOpened),
            EventKind::StatusChanged => Some(Self::StatusChanged),
            EventKind::CommitmentAdded => Some(Self::CommitmentAdded),
            EventKind::CommitmentUpdated => Some(Self::CommitmentUpdated),
            EventKind::ReferralReceived => Some(Self::ReferralReceived),
            EventKind::ReferralAccepted => Some(Self::ReferralAccepted),
            EventKind::ReferralDeclined => Some(Self::ReferralDeclined),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEvent {
    /// Resume after this event with `?after=<cursor>`.
    pub cursor: String,
    /// Absent for `referral_declined` only.
    pub pathway_id: Option<Uuid>,
    pub domain: Domain,
    pub kind: FeedEventKind,
    pub occurred_at: DateTime<Utc>,
    /// The pathway's status after the event, in coarse terms
    /// (`pathway_opened`, `status_changed`).
    pub status: Option<FollowedStatus>,
    /// For commitment events: which one, and its status.
    pub commitment_id: Option<Uuid>,
    pub commitment_status: Option<CommitmentStatus>,
    /// For referral events: your referral.
    pub referral_id: Option<Uuid>,
    /// For `referral_declined`: why.
    pub decline_reason: Option<ReferralDeclineReason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    /// Oldest first.
    pub items: Vec<FeedEvent>,
    /// Pass it as `after` for what follows; the same cursor again when
    /// nothing new has happened yet. `null` only for an empty feed.
    pub next_cursor: Option<String>,
}

fn encode(txid: i64, seq: i64) -> String {
    let mut bytes = txid.to_be_bytes().to_vec();
    bytes.extend(seq.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(cursor: &str) -> Option<(i64, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let txid: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let seq: [u8; 8] = bytes.get(8..)?.try_into().ok()?;
    Some((i64::from_be_bytes(txid), i64::from_be_bytes(seq)))
}

fn uuid_at(data: &serde_json::Value, key: &str) -> Option<Uuid> {
    data.get(key)?.as_str()?.parse().ok()
}

/// An event in the terms a partner may know; `None` for the others.
pub fn event_view(row: FeedRow) -> Option<FeedEvent> {
    let status_at = |key: &str| -> Option<FollowedStatus> {
        serde_json::from_value::<PathwayStatus>(row.data.get(key)?.clone())
            .ok()
            .map(coarse)
    };
    let kind = FeedEventKind::of(row.kind)?;
    let (status, commitment_status) = match kind {
        FeedEventKind::PathwayOpened => (Some(FollowedStatus::InProgress), None),
        FeedEventKind::StatusChanged => (status_at("to"), None),
        FeedEventKind::CommitmentAdded => (None, Some(CommitmentStatus::Planned)),
        FeedEventKind::CommitmentUpdated => (
            None,
            serde_json::from_value(row.data.get("to")?.clone()).ok(),
        ),
        FeedEventKind::ReferralReceived
        | FeedEventKind::ReferralAccepted
        | FeedEventKind::ReferralDeclined => (None, None),
    };
    Some(FeedEvent {
        cursor: encode(row.txid, row.seq),
        pathway_id: row.pathway_id,
        domain: row.domain,
        kind,
        occurred_at: row.occurred_at,
        status,
        commitment_id: uuid_at(&row.data, "commitment_id"),
        commitment_status,
        referral_id: uuid_at(&row.data, "referral_id"),
        decline_reason: row
            .data
            .get("decline_reason")
            .and_then(|reason| serde_json::from_value(reason.clone()).ok()),
    })
}

/// Events of the pathways your organization follows — from the acceptance
/// of its referral or its first commitment on, nothing earlier — and the
/// decisions on its referrals, oldest first, in minimal terms — never notes, decisions, meetings,
/// other partners' data, or anything of a person who objected to sharing.
/// Poll with the last `next_cursor`; an event may come twice after a retry
/// (at-least-once), none is ever skipped, even when transactions commit out
/// of order.
#[utoipa::path(
    tag = "partners",
    params(FeedParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of events.", body = FeedPage),
        (status = 400, response = crate::api::responses::Invalid),
        (status = 401, response = crate::api::responses::Unauthenticated),
        (status = 403, response = crate::api::responses::Forbidden),
    )
)]
#[get("/v1/feed")]
pub async fn read(
    caller: Authorized<FollowPathways>,
    audit: AuditContext,
    params: web::Query<FeedParams>,
    state: web::Data<AppState>,
) -> Result<web::Json<FeedPage>, ApiError> {
    let organization = organization_of(caller.principal())?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "`limit` is out of range.",
            vec![FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )],
        ));
    }
    let after = match params.after.as_deref() {
        None => None,
        Some(cursor) => Some(decode(cursor).ok_or_else(|| {
            ApiError::invalid(
                "`after` is not a cursor of this feed.",
                vec![FieldError::new(
                    "after",
                    "pass a `cursor` or `next_cursor` unchanged",
                )],
            )
        })?),
    };
    let mut conn = state.pool.get().await?;
    let asked = serde_json::json!({ "after": params.after, "limit": limit });
    let record = record::listing(&audit, caller.principal(), "list", "feed", asked);
    let rows = feed::after(&mut conn, organization, after, limit, &record).await?;
    let last = rows.last().map(|row| encode(row.txid, row.seq));
    let items: Vec<FeedEvent> = rows.into_iter().filter_map(event_view).collect();
    Ok(web::Json(FeedPage {
        items,
        next_cursor: last.or_else(|| params.after.clone()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode(&encode(12_345, 678)), Some((12_345, 678)));
        assert_eq!(decode("garbage"), None);
    }
}

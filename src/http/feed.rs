//! `GET /v1/feed`: what changed in the pathways a partner follows, in
//! minimal terms, resumable from any cursor (at-least-once, no gaps).

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::record;
use crate::auth::policy::FollowPathways;
use crate::db::feed;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::http::caller::Authorized;
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::Query;
use crate::http::pagination::page_limit;
use crate::http::referrals::organization_of;
use crate::services::partner_events::{FeedEvent, decode, encode, event_view};

const DEFAULT_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// A `cursor` (of an event, or `next_cursor` of a page): events after it.
    /// Absent: from the beginning.
    pub after: Option<String>,
    /// Events per page, 1 to 200 as on every list (default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    /// Oldest first.
    pub items: Vec<FeedEvent>,
    /// Pass it as `after` for what follows; the same cursor again when
    /// nothing new has happened yet. `null` only for an empty feed.
    pub next_cursor: Option<String>,
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
    responses(
        (status = 200, description = "One page of events.", body = FeedPage),
    )
)]
#[get("")]
pub async fn read(
    caller: Authorized<FollowPathways>,
    params: Query<FeedParams>,
) -> Result<web::Json<FeedPage>, ApiError> {
    let organization = organization_of(caller.principal())?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT)?;
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
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({ "after": params.after, "limit": limit });
    let record = record::listing(
        caller.audit(),
        caller.principal(),
        AuditAction::List,
        AuditTarget::Feed,
        asked,
    );
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

//! `/v1/alerts`: what needs attention in the caller's caseload.

use actix_web::{get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::WorkOnCases;
use crate::db::alert_rules;
use crate::db::alerts::{self, AlertCursor, AlertKind, AlertRow};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::{Domain, EscalationLevel};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{Page, PageParams, bad_cursor};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub kind: AlertKind,
    pub pathway_id: Uuid,
    pub person_id: Uuid,
    pub domain: Domain,
    /// When it is (or was) due: the review date, the end of the decision,
    /// 30 days after the pathway became `without_solution`, the day the
    /// situation became critical, the day of the last facility refusal,
    /// the birthday of an age threshold or a legal deadline
    /// (`GET /v1/alert-rules`: how many months after what), the day an
    /// escalation's answer was due, the day a GOS was convened for.
    pub due_on: NaiveDate,
    /// Days from today to `due_on`; negative once it has passed.
    #[schema(example = 42)]
    pub days_left: i64,
    /// Whether `due_on` has passed.
    pub overdue: bool,
    /// The plan, decision, escalation or meeting concerned; the pathway
    /// itself otherwise.
    pub subject_id: Uuid,
    /// The pathway's escalation level, when it is flagged critical.
    pub critical_level: Option<EscalationLevel>,
    /// The alert suggests flagging the situation critical
    /// (`PUT /v1/pathways/{id}/critical`), and it is not flagged yet.
    pub suggests_critical: bool,
}

fn kind_of(row: &AlertRow) -> Option<AlertKind> {
    serde_json::from_value(serde_json::Value::String(row.kind.clone())).ok()
}

fn encode(alert: &Alert) -> String {
    let cursor = AlertCursor {
        due_on: alert.due_on,
        kind: crate::domain::enums::name_of(&alert.kind),
        subject_id: alert.subject_id,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

fn decode(cursor: &str) -> Result<AlertCursor, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(bad_cursor)
}

/// Alerts of your caseload — coordinators: the pathways you follow and the
/// plans you coordinate; supervisors: your territories and domains — most
/// urgent (earliest due) first. Closed pathways raise none. Beside plan
/// reviews, expiring decisions, long waits, critical situations and
/// refused orientations: the ages and legal deadlines of
/// `GET /v1/alert-rules`, as the département set them.
#[utoipa::path(
    tag = "pathways",
    params(PageParams),
    responses(
        (status = 200, description = "One page of alerts, earliest due first.", body = Page<Alert>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<WorkOnCases>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<Alert>>, ApiError> {
    let limit = PageParams {
        limit: page.limit,
        cursor: None,
    }
    .validate()?
    .limit;
    let after = page.cursor.as_deref().map(decode).transpose()?;
    let mut conn = caller.conn().await?;
    let asked = serde_json::json!({ "cursor": page.cursor });
    let who = caller.principal();
    let record = record::listing(
        caller.audit(),
        who,
        AuditAction::List,
        AuditTarget::Alert,
        asked,
    );
    let today = Utc::now().date_naive();
    let rules = alert_rules::in_force(&mut conn, &who.domains, today).await?;
    let rows = alerts::of_caseload(&mut conn, who, after.as_ref(), limit, &rules, &record).await?;
    let mut items: Vec<Alert> = rows
        .into_iter()
        .filter_map(|row| {
            let kind = kind_of(&row)?;
            Some(Alert {
                kind,
                suggests_critical: kind.suggests_critical() && row.critical_level.is_none(),
                pathway_id: row.pathway_id,
                person_id: row.person_id,
                domain: row.domain,
                overdue: row.due_on < today,
                days_left: (row.due_on - today).num_days(),
                due_on: row.due_on,
                subject_id: row.subject_id,
                critical_level: row.critical_level,
            })
        })
        .collect();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(encode)
    } else {
        None
    };
    Ok(web::Json(Page { items, next_cursor }))
}

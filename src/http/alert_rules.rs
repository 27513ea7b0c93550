//! `/v1/alert-rules`: the ages and legal deadlines that raise alerts, read
//! by every role, set by admins for their département.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::policy::{ManageReferenceData, ReadReferenceData};
use crate::db::alert_rules::{self, RuleSetting, Setting};
use crate::domain::deadlines::{CountsFrom, RecordedDue};
use crate::domain::validation::Checks;
use crate::domain::{AlertRule, Domain, PlanKind};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, etag};
use crate::http::extract::Json;
use crate::services;

/// A rule and the département's setting of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertRuleView {
    pub rule: AlertRule,
    /// The domain whose open pathways it watches; absent: every domain.
    pub domain: Option<Domain>,
    /// What its months count from; absent for a rule due on `recorded_due`.
    pub counts_from: Option<CountsFrom>,
    /// The day each plan or decision records, on which the rule falls due
    /// (a plan's review, a decision's end of validity); absent for a rule
    /// counting months.
    pub recorded_due: Option<RecordedDue>,
    /// For a deadline: the plan whose consent meets it.
    pub met_by: Option<PlanKind>,
    /// Months after the day it counts from (an age: 216 is 18 years);
    /// absent for a rule due on a recorded day.
    #[schema(example = 216)]
    pub months: Option<i32>,
    /// How many days ahead the alert shows (an age also shows that many
    /// days after the birthday; a deadline until it is met).
    #[schema(example = 90)]
    pub notice_days: i32,
    /// Whether it raises alerts.
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<RuleSetting> for AlertRuleView {
    fn from(r: RuleSetting) -> Self {
        Self {
            rule: r.rule,
            domain: r.rule.domain(),
            counts_from: r.rule.counts_from(),
            recorded_due: r.rule.recorded_due(),
            met_by: r.rule.met_by(),
            months: r.months,
            notice_days: r.notice_days,
            active: r.active,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertRules {
    pub items: Vec<AlertRuleView>,
}

/// A rule's new setting, whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAlertRule {
    /// Required for a rule counting months; refused for a rule due on a
    /// recorded day (`plan_review`, `decision_expiring`).
    #[schema(example = 216, minimum = 1, maximum = 1200)]
    pub months: Option<u32>,
    #[schema(example = 90, minimum = 0, maximum = 730)]
    pub notice_days: u32,
    pub active: bool,
}

fn respond(status: StatusCode, rule: RuleSetting) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::ETAG, etag(rule.version)))
        .json(AlertRuleView::from(rule))
}

/// The rules of the alerts on ages and legal deadlines, with their setting.
#[utoipa::path(
    tag = "reference data",
    responses(
        (status = 200, description = "Every rule.", body = AlertRules),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ReadReferenceData>,
) -> Result<web::Json<AlertRules>, ApiError> {
    let mut conn = caller.conn().await?;
    let items = alert_rules::all(&mut conn).await?;
    Ok(web::Json(AlertRules {
        items: items.into_iter().map(AlertRuleView::from).collect(),
    }))
}

/// One rule, with its ETag.
#[utoipa::path(
    tag = "reference data",
    params(("rule" = AlertRule, Path, description = "The rule.")),
    responses(
        (status = 200, description = "The rule.", body = AlertRuleView, headers(("ETag" = String))),
    )
)]
#[get("/{rule}")]
pub async fn read(
    caller: Authorized<ReadReferenceData>,
    rule: web::Path<AlertRule>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let found = alert_rules::find(&mut conn, *rule)
        .await?
        .ok_or_else(alert_rules::not_found)?;
    Ok(respond(StatusCode::OK, found))
}

/// Set a rule for your département (admin): its months, its notice, on or
/// off. Requires `If-Match`; audited with the setting before and after.
/// The caseloads' alerts follow at once.
#[utoipa::path(
    tag = "reference data",
    params(("rule" = AlertRule, Path, description = "The rule."), IfMatch),
    request_body = SetAlertRule,
    responses(
        (status = 200, description = "Set.", body = AlertRuleView, headers(("ETag" = String))),
    )
)]
#[put("/{rule}")]
pub async fn set(
    caller: Authorized<ManageReferenceData>,
    rule: web::Path<AlertRule>,
    body: Json<SetAlertRule>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    let within = |checks: &mut Checks, field: &str, value: u32, (min, max): (u32, u32)| -> i32 {
        if !(min..=max).contains(&value) {
            checks.fail(field, format!("must be between {min} and {max}"));
        }
        i32::try_from(value).unwrap_or_default()
    };
    let months = match (body.months, rule.counts_from()) {
        (Some(months), Some(_)) => Some(within(&mut checks, "months", months, (1, 1200))),
        (None, None) => None,
        (None, Some(_)) => {
            checks.fail("months", "is required: this rule counts months");
            None
        }
        (Some(_), None) => {
            checks.fail(
                "months",
                "this rule falls due on the day each plan or decision records: it counts no months",
            );
            None
        }
    };
    let setting = Setting {
        months,
        notice_days: within(&mut checks, "notice_days", body.notice_days, (0, 730)),
        active: body.active,
    };
    checks.finish()?;
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let set =
        services::reference_data::set_alert_rule(&mut conn, by, *rule, version, setting).await?;
    Ok(respond(StatusCode::OK, set))
}

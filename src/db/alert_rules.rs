//! The département's settings of the age and deadline rules
//! (`domain::deadlines`): months counted, days of notice, on or off.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::Error;
use crate::db::alerts::RuleWindow;
use crate::db::schema::alert_rules;
use crate::db::versioned::at_version;
use crate::domain::deadlines::window;
use crate::domain::{AlertRule, Domain};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_rules, check_for_backend(diesel::pg::Pg))]
pub struct RuleSetting {
    pub rule: AlertRule,
    pub months: i32,
    pub notice_days: i32,
    pub active: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// A rule's new setting.
#[derive(Debug, Clone, Copy, AsChangeset)]
#[diesel(table_name = alert_rules)]
pub struct Setting {
    pub months: i32,
    pub notice_days: i32,
    pub active: bool,
}

/// Every rule, in the order of the closed set.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<RuleSetting>> {
    alert_rules::table
        .select(RuleSetting::as_select())
        .order(alert_rules::rule)
        .load(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    rule: AlertRule,
) -> QueryResult<Option<RuleSetting>> {
    alert_rules::table
        .find(rule)
        .select(RuleSetting::as_select())
        .first(conn)
        .await
        .optional()
}

/// The rules in force `today` for pathways of `domains`, with the window
/// each alert shows in.
pub async fn windows(
    conn: &mut AsyncPgConnection,
    domains: &[Domain],
    today: NaiveDate,
) -> QueryResult<Vec<RuleWindow>> {
    Ok(all(conn)
        .await?
        .into_iter()
        .filter(|s| s.active && domains.contains(&s.rule.domain()))
        .filter_map(|s| {
            let months = u32::try_from(s.months).ok()?;
            let notice = u32::try_from(s.notice_days).ok()?;
            Some(RuleWindow {
                rule: s.rule,
                months: s.months,
                window: window(s.rule, months, notice, today)?,
            })
        })
        .collect())
}

pub fn not_found() -> Error {
    Error::not_found("No such alert rule.")
}

/// Sets the rule if `version` is current; returns it before and after.
pub async fn set(
    conn: &mut AsyncPgConnection,
    rule: AlertRule,
    version: i32,
    setting: Setting,
) -> Result<(RuleSetting, RuleSetting), Error> {
    let locked = alert_rules::table
        .find(rule)
        .select(RuleSetting::as_select())
        .for_update()
        .first(&mut *conn)
        .await
        .optional()?;
    let before = at_version(locked, version).map_err(|e| e.refused(not_found))?;
    let after = diesel::update(alert_rules::table.find(rule))
        .set((setting, alert_rules::version.eq(version + 1)))
        .returning(RuleSetting::as_returning())
        .get_result(conn)
        .await?;
    Ok((before, after))
}

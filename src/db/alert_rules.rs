//! The département's settings of the age and deadline rules
//! (`domain::deadlines`): months counted (none for a rule due on a day its
//! plan or decision records), days of notice, on or off.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::Error;
use crate::db::Tx;
use crate::db::alerts::{InForce, RuleWindow};
use crate::db::schema::alert_rules;
use crate::db::versioned::at_version;
use crate::domain::deadlines::{RecordedDue, window};
use crate::domain::{AlertRule, Domain};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alert_rules, check_for_backend(diesel::pg::Pg))]
pub struct RuleSetting {
    pub rule: AlertRule,
    pub months: Option<i32>,
    pub notice_days: i32,
    pub active: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(RuleSetting);

/// A rule's new setting.
#[derive(Debug, Clone, Copy, AsChangeset)]
#[diesel(table_name = alert_rules, treat_none_as_null = true)]
pub struct Setting {
    /// `None` exactly for a rule due on a recorded day.
    pub months: Option<i32>,
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

/// The rules in force `today` for pathways of `domains`: the window each
/// counted rule's alerts show in, and the notice of each rule due on a
/// recorded day (none when turned off).
pub async fn in_force(
    conn: &mut AsyncPgConnection,
    domains: &[Domain],
    today: NaiveDate,
) -> QueryResult<InForce> {
    let settings = all(conn).await?;
    let notice_of = |due: RecordedDue| {
        settings
            .iter()
            .find(|s| s.active && s.rule.recorded_due() == Some(due))
            .map(|s| s.notice_days)
    };
    let (review_notice, decision_notice) = (
        notice_of(RecordedDue::ReviewDue),
        notice_of(RecordedDue::ValidUntil),
    );
    let windows = settings
        .iter()
        .filter(|s| s.active)
        .filter_map(|s| {
            let domain = s.rule.domain().filter(|d| domains.contains(d))?;
            let counts_from = s.rule.counts_from()?;
            let months = s.months?;
            let window = window(
                counts_from,
                u32::try_from(months).ok()?,
                u32::try_from(s.notice_days).ok()?,
                today,
            )?;
            Some(RuleWindow {
                rule: s.rule,
                domain,
                counts_from,
                months,
                window,
            })
        })
        .collect();
    Ok(InForce {
        windows,
        review_notice,
        decision_notice,
    })
}

pub fn not_found() -> Error {
    Error::not_found("No such alert rule.")
}

/// Sets the rule if `version` is current; returns it before and after.
pub async fn set(
    tx: &mut Tx<'_>,
    rule: AlertRule,
    version: i32,
    setting: Setting,
) -> Result<(RuleSetting, RuleSetting), Error> {
    let locked = alert_rules::table
        .find(rule)
        .select(RuleSetting::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let before = at_version(locked, version).map_err(|e| e.refused(not_found))?;
    let after = diesel::update(alert_rules::table.find(rule))
        .set((setting, alert_rules::version.eq(version + 1)))
        .returning(RuleSetting::as_returning())
        .get_result(tx.conn())
        .await?;
    Ok((before, after))
}

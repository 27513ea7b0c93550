//! The administration of reference data: territories, organizations, the
//! territory of each commune, the rollout calendar of the domains and the
//! settings of the alerts on ages and legal deadlines.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::{Acting, Entry};
use crate::db::Error;
use crate::db::alert_rules::{self, RuleSetting, Setting};
use crate::db::communes::{self, Covered};
use crate::db::domain_calendar::{self, Opening};
use crate::db::organizations::{self, NewOrganization, Organization, OrganizationChanges};
use crate::db::territories::{self, NewTerritory, Territory};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::{AlertRule, Domain};
use crate::services::change::{Change, described};

pub async fn create_territory(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewTerritory,
) -> Result<Territory, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Territory)
        .run(
            conn,
            async |conn| Ok::<_, Error>(territories::insert(conn, new).await?),
            |territory| territory.id,
        )
        .await
}

pub async fn rename_territory(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    name: &str,
) -> Result<Territory, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::Territory)
        .of(id)
        .run(
            conn,
            async |conn| territories::rename(conn, id, version, name).await,
            |territory| territory.id,
        )
        .await
}

pub async fn create_organization(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewOrganization,
) -> Result<Organization, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Organization)
        .run(
            conn,
            async |conn| Ok::<_, Error>(organizations::insert(conn, new).await?),
            |organization| organization.id,
        )
        .await
}

pub async fn update_organization(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &OrganizationChanges,
) -> Result<Organization, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::Organization)
        .of(id)
        .run(
            conn,
            async |conn| organizations::update(conn, id, version, changes).await,
            |organization| organization.id,
        )
        .await
}

/// Moves a domain's opening date. A domain has no id of its own: the
/// record says what was asked.
pub async fn reschedule_domain(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    domain: Domain,
    version: i32,
    opens_on: NaiveDate,
) -> Result<Opening, Error> {
    let action = AuditAction::Reschedule;
    described(conn, by, action, AuditTarget::Domain, async |conn| {
        let opening = domain_calendar::reschedule(conn, domain, version, opens_on).await?;
        let asked = serde_json::json!({ "domain": domain, "opens_on": opens_on });
        Ok((opening, |entry: Entry| entry.listing(asked, vec![])))
    })
    .await
}

/// Moves a commune to another territory: referrals from it then go to that
/// territory's queue. A commune has no id of its own: the record names it,
/// with the territory before and after.
pub async fn move_commune(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    insee: &str,
    territory: Uuid,
) -> Result<Covered, Error> {
    let action = AuditAction::Update;
    described(conn, by, action, AuditTarget::Commune, async |conn| {
        let (before, after) = communes::move_to(conn, insee, territory).await?;
        let was = serde_json::json!({ "insee": insee, "territory_id": before.territory_id });
        let is = serde_json::json!({ "insee": insee, "territory_id": after.0.territory_id });
        Ok((after, |entry: Entry| entry.changes(was, is)))
    })
    .await
}

/// Sets an age or deadline rule of the alerts (months, notice, on or off).
/// A rule has no id of its own: the record names it, before and after.
pub async fn set_alert_rule(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    rule: AlertRule,
    version: i32,
    setting: Setting,
) -> Result<RuleSetting, Error> {
    let action = AuditAction::Update;
    described(conn, by, action, AuditTarget::AlertRule, async |conn| {
        let (before, after) = alert_rules::set(conn, rule, version, setting).await?;
        let told = |r: &RuleSetting| {
            serde_json::json!({
                "rule": r.rule, "months": r.months, "notice_days": r.notice_days,
                "active": r.active,
            })
        };
        let (was, is) = (told(&before), told(&after));
        Ok((after, |entry: Entry| entry.changes(was, is)))
    })
    .await
}

//! The administration of reference data: territories, organizations and
//! the rollout calendar of the domains.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::{Acting, Entry, record};
use crate::db::Error;
use crate::db::domain_calendar::{self, Opening};
use crate::db::organizations::{self, NewOrganization, Organization, OrganizationChanges};
use crate::db::territories::{self, NewTerritory, Territory};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::{AuditOutcome, Domain};
use crate::services::change::{Change, transaction};

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
    let done = transaction(conn, async |conn| {
        let opening = domain_calendar::reschedule(conn, domain, version, opens_on).await?;
        let asked = serde_json::json!({ "domain": domain, "opens_on": opens_on });
        let entry = Entry::new(AuditAction::Reschedule, AuditOutcome::Success)
            .on(AuditTarget::Domain, None)
            .listing(asked, vec![]);
        record::by(conn, by, entry).await?;
        Ok::<_, Error>(opening)
    })
    .await;
    let target = (AuditTarget::Domain, None);
    record::settled(
        conn,
        by.audit,
        by.who,
        AuditAction::Reschedule,
        target,
        done,
    )
    .await
}

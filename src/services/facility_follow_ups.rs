//! The follow-up of an orientation per facility: staff address an
//! orientation to facilities; a facility's partner client, or staff on its
//! behalf, report where the person stands there.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::Error;
use crate::db::facility_follow_ups::{self, FollowUp, NewFollowUp, NewStatus};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::services::change::Change;

/// Addresses an orientation of the caller's scope to a facility.
pub async fn address(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewFollowUp,
) -> Result<FollowUp, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::FacilityFollowUp)
        .run(
            conn,
            async |conn| facility_follow_ups::add(conn, by.who, new).await,
            |follow_up| follow_up.id,
        )
        .await
}

/// Reports a facility's new status for the follow-up `id`, read at `version`.
pub async fn report(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    new: &NewStatus,
) -> Result<FollowUp, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::FacilityFollowUp)
        .of(id)
        .run(
            conn,
            async |conn| facility_follow_ups::report(conn, by.who, id, version, new).await,
            |follow_up| follow_up.id,
        )
        .await
}

//! Critical situations escalated to a named organization: staff who steer
//! the pathway send one; the recipient acknowledges and answers it; the
//! département closes it. Each change commits with its event and audit
//! record.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::Error;
use crate::db::escalations::{self, Escalation, Move, NewEscalation};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::services::change::Change;

/// Sends the critical situation of a pathway the caller steers.
pub async fn send(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewEscalation,
) -> Result<Escalation, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Escalation)
        .run(
            conn,
            async |conn| escalations::send(conn, by.who, new).await,
            |sent| sent.id,
        )
        .await
}

/// Acknowledges, answers or closes the escalation `id`, read at `version`.
pub async fn advance(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &Move,
) -> Result<Escalation, Error> {
    Change::new(by, AuditAction::Transition, AuditTarget::Escalation)
        .of(id)
        .run(
            conn,
            async |conn| escalations::advance(conn, by.who, id, version, change).await,
            |moved| moved.id,
        )
        .await
}

//! A commitment's use cases: a commitment is proposed to an organization;
//! staff change it, its organization's partner answers it and moves only
//! its status.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::Error;
use crate::db::commitments::{self, Commitment, CommitmentChanges, NewCommitment};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::policy::{changes_only_commitment_status, may_set_commitment_status};
use crate::services::change::Change;

/// Adds a commitment to a plan of the caller's scope.
pub async fn add(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewCommitment,
) -> Result<Commitment, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Commitment)
        .run(
            conn,
            async |conn| commitments::add(conn, by.who, new).await,
            |commitment| commitment.id,
        )
        .await
}

/// Changes a commitment; a partner may change only its status (403).
pub async fn update(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &CommitmentChanges,
) -> Result<Commitment, Error> {
    if changes_only_commitment_status(by.who.role) && changes.changes_terms() {
        return Err(Error::forbidden(
            "Partners change only the `status` of their commitments.",
        ));
    }
    let on_behalf = changes.on_behalf_of.is_some();
    if let Some(to) = changes.status
        && !may_set_commitment_status(by.who.role, to, on_behalf)
    {
        return Err(Error::forbidden(
            if changes_only_commitment_status(by.who.role) {
                "Cancelling a commitment or proposing it again is the referent's, and a partner \
             answers as itself: answer it (`accepted`, `refused`), carry it out or report it \
             `breached`."
            } else {
                "Only the organization a commitment is proposed to answers it. To record an \
             answer it gave another way (by phone, by letter…), send it in `on_behalf_of`."
            },
        ));
    }
    // An answer recorded for the organization is an act of its own in the
    // audit trail.
    let action = if on_behalf {
        AuditAction::RecordAnswer
    } else {
        AuditAction::Update
    };
    Change::new(by, action, AuditTarget::Commitment)
        .of(id)
        .run(
            conn,
            async |conn| commitments::update(conn, by.who, id, version, changes).await,
            |commitment| commitment.id,
        )
        .await
}

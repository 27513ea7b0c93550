//! A referral's use cases: a partner refers a person; the staff of the
//! commune's territory accept it (matching or creating the person, opening
//! the pathway) or decline it.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::audit::record;
use crate::db::Error;
use crate::db::referrals::{self, Accepted, Incoming, Referral};
use crate::domain::ReferralDeclineReason;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::policy::{Action, allows};
use crate::privacy::PersonalDataKeys;
use crate::services::change::Change;

/// Queues a partner's referral for the staff of the commune's territory.
pub async fn receive(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
) -> Result<Referral, Error> {
    Change::new(by, AuditAction::Refer, AuditTarget::Referral)
        .run(
            conn,
            async |conn| referrals::receive(conn, keys, incoming).await,
            |referral| referral.id,
        )
        .await
}

/// Accepts a referral. The pathway it opens or joins is recorded first: a
/// retry that lost this response is sent to it.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    keys: &PersonalDataKeys,
    id: Uuid,
    person_id: Option<Uuid>,
    take_as_referent: bool,
) -> Result<Accepted, Error> {
    let acceptance = referrals::Acceptance {
        person_id,
        take_as_referent,
        may_replace_referent: allows(by.who.role, Action::AssignReferent),
    };
    Change::new(by, AuditAction::Accept, AuditTarget::Referral)
        .of(id)
        .run(
            conn,
            async |conn| {
                let accepted = referrals::accept(conn, keys, by.who, id, &acceptance).await?;
                if let Some(pathway) = accepted.referral.pathway_id {
                    let (action, target) = (AuditAction::Accept, AuditTarget::Pathway);
                    record::changed(conn, by.audit, by.who, action, target, pathway).await?;
                }
                Ok::<_, Error>(accepted)
            },
            |_| id,
        )
        .await
}

/// Declines a referral, with a coded reason and an optional comment.
pub async fn decline(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    reason: ReferralDeclineReason,
    comment: Option<&str>,
) -> Result<Referral, Error> {
    Change::new(by, AuditAction::Decline, AuditTarget::Referral)
        .of(id)
        .run(
            conn,
            async |conn| referrals::decline(conn, by.who, id, reason, comment).await,
            |_| id,
        )
        .await
}

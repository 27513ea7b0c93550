//! A referral's use cases: a partner refers a person; the staff of the
//! commune's territory accept it (matching or creating the person, opening
//! the pathway) or decline it.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::AuditContext;
use crate::audit::record;
use crate::db::Error;
use crate::db::referrals::{self, Accepted, Incoming, Referral};
use crate::domain::ReferralDeclineReason;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::policy::{Action, allows};
use crate::domain::principal::Principal;
use crate::privacy::PersonalDataKeys;
use crate::services::change::Change;

/// Queues a partner's referral for the staff of the commune's territory.
pub async fn receive(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    audit: &AuditContext,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
) -> Result<Referral, Error> {
    Change::new(who, audit, AuditAction::Refer, AuditTarget::Referral)
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
    who: &Principal,
    audit: &AuditContext,
    keys: &PersonalDataKeys,
    id: Uuid,
    person_id: Option<Uuid>,
    take_as_referent: bool,
) -> Result<Accepted, Error> {
    let acceptance = referrals::Acceptance {
        person_id,
        take_as_referent,
        may_replace_referent: allows(who.role, Action::AssignReferent),
    };
    Change::new(who, audit, AuditAction::Accept, AuditTarget::Referral)
        .of(id)
        .run(
            conn,
            async |conn| {
                let accepted = referrals::accept(conn, keys, who, id, &acceptance).await?;
                if let Some(pathway) = accepted.referral.pathway_id {
                    let (action, target) = (AuditAction::Accept, AuditTarget::Pathway);
                    record::changed(conn, audit, who, action, target, pathway).await?;
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
    who: &Principal,
    audit: &AuditContext,
    id: Uuid,
    reason: ReferralDeclineReason,
    comment: Option<&str>,
) -> Result<Referral, Error> {
    Change::new(who, audit, AuditAction::Decline, AuditTarget::Referral)
        .of(id)
        .run(
            conn,
            async |conn| referrals::decline(conn, who, id, reason, comment).await,
            |_| id,
        )
        .await
}

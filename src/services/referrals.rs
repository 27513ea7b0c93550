//! A referral's use cases: a partner refers a person; the staff of the
//! commune's territory accept it (matching or creating the person, opening
//! or joining the pathway) or decline it with a coded reason. Receiving one
//! looks at no person and no pathway, so that its receipt cannot tell the
//! partner whether the département already knew anything.

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::audit::record;
use crate::db::pathways::{self, NewPathway};
use crate::db::referrals::{self, AcceptedRow, Incoming, Referral};
use crate::db::{Error, Tx, communes, domain_calendar, events};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::enums::name_of;
use crate::domain::events::{self as event, EventData};
use crate::domain::policy::{Action, allows};
use crate::domain::principal::Principal;
use crate::domain::refusal::Refusal;
use crate::domain::rollout::check_pathway_date;
use crate::domain::{Domain, ReferralDeclineReason, ReferralStatus};
use crate::privacy::PersonalDataKeys;
use crate::services::change::Change;
use crate::services::pathways::opened;

/// How staff take a referral in.
#[derive(Debug, Default)]
pub struct Acceptance {
    /// The person it concerns, chosen by staff; `None`: matched as the
    /// partner's number, the NIR or a close name with the birth date say,
    /// within the caller's territories, or else created.
    pub person_id: Option<Uuid>,
    /// The caller becomes the pathway's referent.
    pub take_as_referent: bool,
    /// The caller may also take over a pathway that has a referent (the
    /// policy's answer for `AssignReferent`).
    pub may_replace_referent: bool,
}

/// What accepting did.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub referral: Referral,
    /// The partner's number differs from the one the person already had:
    /// the person's was kept, and the referral keeps the partner's.
    pub partner_number_differs: bool,
}

/// Queues a partner's referral for the staff of the commune's territory.
/// The domain must be open today and the commune covered; nothing else is
/// looked at.
pub async fn receive(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
) -> Result<Referral, Error> {
    Change::new(by, AuditAction::Refer, AuditTarget::Referral)
        .run(
            conn,
            async |tx| {
                check_open(tx, incoming.domain, Utc::now().date_naive()).await?;
                let territory =
                    communes::covering_territory(tx, &incoming.commune_insee, "commune_insee")
                        .await?;
                Ok::<_, Error>(referrals::insert(tx, keys, incoming, territory).await?)
            },
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
    let acceptance = Acceptance {
        person_id,
        take_as_referent,
        may_replace_referent: allows(by.who.role, Action::AssignReferent),
    };
    Change::new(by, AuditAction::Accept, AuditTarget::Referral)
        .of(id)
        .run(
            conn,
            async |tx| {
                let accepted = take_in(tx, keys, by.who, id, &acceptance).await?;
                if let Some(pathway) = accepted.referral.pathway_id {
                    let (action, target) = (AuditAction::Accept, AuditTarget::Pathway);
                    record::changed(tx, by.audit, by.who, action, target, pathway).await?;
                }
                Ok::<_, Error>(accepted)
            },
            |_| id,
        )
        .await
}

/// Declines a referral, with a coded reason and an optional comment; the
/// partner is told through its receipt and its feed.
pub async fn decline(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    reason: ReferralDeclineReason,
    comment: Option<&str>,
) -> Result<Referral, Error> {
    let actor = by.who.subject.id();
    Change::new(by, AuditAction::Decline, AuditTarget::Referral)
        .of(id)
        .run(
            conn,
            async |tx| {
                let pending = lock_pending(tx, by.who, id).await?;
                let referral =
                    referrals::write_declined(tx, pending.id, reason, comment, actor).await?;
                let data = EventData::ReferralDeclined(event::ReferralDeclined {
                    referral_id: referral.id,
                    organization_id: referral.organization_id,
                    domain: referral.domain,
                    decline_reason: reason,
                });
                events::record_unattached(tx, actor, data).await?;
                Ok(referral)
            },
            |_| id,
        )
        .await
}

/// The person, the pathway, the referral's decision and its events. From
/// this moment the referring partner follows the pathway.
async fn take_in(
    tx: &mut Tx<'_>,
    keys: &PersonalDataKeys,
    who: &Principal,
    id: Uuid,
    acceptance: &Acceptance,
) -> Result<Accepted, Error> {
    let today = Utc::now().date_naive();
    let actor = who.subject.id();
    let referral = lock_pending(tx, who, id).await?;
    check_open(tx, referral.domain, today).await?;
    referrals::serialize_birth_date(tx, referral.birth_date).await?;
    let kind = referrals::organization_kind(tx, referral.organization_id).await?;
    let nir = referral
        .nir_ciphertext
        .as_deref()
        .and_then(|sealed| keys.decrypt_nir(referral.id, sealed));
    let nir_index = nir.as_ref().map(|n| keys.nir_index(n));
    let chosen = match acceptance.person_id {
        Some(person) => Some(referrals::chosen_person(tx, who, person).await?),
        None => referrals::find_person(tx, who, &referral, kind, nir_index.as_deref()).await?,
    };
    let person_matched = chosen.is_some();
    let (person, partner_number_differs) = match chosen {
        Some(person) => {
            let differs =
                referrals::merge_identifiers(tx, keys, &person, &referral, kind, nir.as_ref())
                    .await?;
            (person, differs)
        }
        None => (
            referrals::create_person(tx, keys, &referral, kind, nir.as_ref()).await?,
            false,
        ),
    };
    let referent = acceptance.take_as_referent.then_some(actor);
    if let Some(referent) = referent
        && !pathways::can_be_referent(tx, referent, person.territory_id, referral.domain).await?
    {
        return Err(Error::unprocessable(
            "take_as_referent",
            "you do not work in the person's territory and the referral's domain",
        ));
    }
    let open = referrals::open_pathway_locked(tx, person.id, referral.domain).await?;
    let opening = match open {
        Some(_) => None,
        None => Some(NewPathway {
            id: Uuid::now_v7(),
            person_id: person.id,
            domain: referral.domain,
            territory_id: person.territory_id,
            referent_id: referent,
            opened_on: today,
            continues_from: None,
            continuation_reason: None,
        }),
    };
    let pathway_id = opening
        .as_ref()
        .map(|new| new.id)
        .or(open.map(|(id, _)| id))
        .ok_or_else(|| Error::internal(anyhow::anyhow!("no pathway to accept into")))?;
    // The decision comes first (the foreign key to the pathway is checked
    // at commit), so that the events below already count the partner
    // among those who follow the pathway (feed and webhook outbox).
    let decided = AcceptedRow {
        person_id: person.id,
        pathway_id,
        person_matched,
        pathway_opened: opening.is_some(),
        decided_by: actor,
    };
    let referral = referrals::write_accepted(tx, referral.id, &decided).await?;
    match (&opening, open, referent) {
        (Some(new), _, _) => {
            opened(tx, new, actor, Some(&referral.reason)).await?;
        }
        (None, Some((_, current)), Some(referent)) if current != Some(referent) => {
            take_as_referent(tx, acceptance, pathway_id, current, referent).await?;
        }
        _ => {}
    }
    let data = EventData::ReferralAccepted(event::ReferralAccepted {
        referral_id: referral.id,
        organization_id: referral.organization_id,
        domain: referral.domain,
        pathway_opened: opening.is_some(),
        partner_number_differs,
    });
    events::record(tx, pathway_id, actor, data).await?;
    Ok(Accepted {
        referral,
        partner_number_differs,
    })
}

/// A pending referral of the caller's queue, locked for the decision.
async fn lock_pending(tx: &mut Tx<'_>, who: &Principal, id: Uuid) -> Result<Referral, Error> {
    let referral = referrals::lock_in_queue(tx, who, id)
        .await?
        .ok_or_else(referrals::not_found)?;
    if referral.status != ReferralStatus::Pending {
        return Err(Error::conflict(format!(
            "This referral was already {}.",
            name_of(&referral.status)
        )));
    }
    Ok(referral)
}

/// The domain must accept referrals `today`.
async fn check_open(
    conn: &mut AsyncPgConnection,
    domain: Domain,
    today: NaiveDate,
) -> Result<(), Error> {
    let opening = domain_calendar::find(conn, domain)
        .await?
        .ok_or_else(|| Error::unprocessable("domain", "has no opening date"))?;
    check_pathway_date(opening.opens_on, today, today).map_err(|closed| {
        Error::Refused(Refusal::DomainNotOpen {
            detail: format!(
                "The domain `{}` accepts referrals from {} on.",
                name_of(&domain),
                closed.opens_on
            ),
            opens_on: closed.opens_on,
        })
    })
}

/// The accepting staff member becomes the referent of a pathway already
/// open: a coordinator only of one that has none, a supervisor of any.
async fn take_as_referent(
    tx: &mut Tx<'_>,
    acceptance: &Acceptance,
    pathway: Uuid,
    current: Option<Uuid>,
    referent: Uuid,
) -> Result<(), Error> {
    if current.is_some() && !acceptance.may_replace_referent {
        return Err(Error::conflict(
            "The pathway already has a referent; a supervisor can hand it to you.",
        ));
    }
    pathways::hand_over(tx, &[pathway], referent).await?;
    let data = EventData::ReferentAssigned(event::ReferentAssigned {
        from: current,
        to: referent,
    });
    // The caller, who takes the pathway, assigns it.
    events::record(tx, pathway, referent, data).await?;
    Ok(())
}

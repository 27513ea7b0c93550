//! Referrals from partners, in triage: received and queued for the staff of
//! the commune's territory, then accepted (the person matched or created,
//! the pathway opened or joined) or declined with a coded reason.
//!
//! Receiving one looks at no person and no pathway, so that its receipt
//! cannot tell the partner whether the département already knew anything.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::communes;
use crate::db::pathways::{self, NewPathway};
use crate::db::persons::{self, NewPerson, Person};
use crate::db::schema::{organizations, pathways as pathways_t, persons as persons_t, referrals};
use crate::db::scope::{persons_visible, referrals_triaged};
use crate::db::{domain_calendar, events};
use crate::domain::enums::name_of;
use crate::domain::events::{self as event, EventData};
use crate::domain::nir::Nir;
use crate::domain::principal::Principal;
use crate::domain::refusal::Refusal;
use crate::domain::rollout::check_pathway_date;
use crate::domain::{
    Domain, OrganizationKind, PathwayStatus, ReferralDeclineReason, ReferralStatus,
};
use crate::privacy::PersonalDataKeys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = referrals, check_for_backend(diesel::pg::Pg))]
pub struct Referral {
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub territory_id: Uuid,
    pub domain: Domain,
    pub status: ReferralStatus,
    pub received_at: DateTime<Utc>,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub commune_insee: String,
    pub partner_number: Option<String>,
    pub nir_ciphertext: Option<Vec<u8>>,
    pub reason: String,
    pub contact: Option<String>,
    pub person_id: Option<Uuid>,
    pub pathway_id: Option<Uuid>,
    pub person_matched: Option<bool>,
    pub pathway_opened: Option<bool>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    pub decline_reason: Option<ReferralDeclineReason>,
    pub decision_comment: Option<String>,
}

/// What a partner says about the person it refers, already parsed.
pub struct Incoming {
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub commune_insee: String,
    /// The CAF or MSA number, by the partner's kind.
    pub partner_number: Option<String>,
    pub nir: Option<Nir>,
    pub domain: Domain,
    pub reason: String,
    pub contact: Option<String>,
}

/// A referral as its partner may see it: whether the person objected to
/// sharing decides whether the receipt names the pathway.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub referral: Referral,
    pub sharing_objection: bool,
}

/// Records the referral in the queue of the commune's territory. The
/// domain must be open today and the commune covered; nothing else is
/// looked at.
pub async fn receive(
    tx: &mut Tx<'_>,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
) -> Result<Referral, Error> {
    let today = Utc::now().date_naive();
    check_open(tx, incoming.domain, today).await?;
    let territory =
        communes::covering_territory(tx, &incoming.commune_insee, "commune_insee").await?;
    let id = Uuid::now_v7();
    let referral = diesel::insert_into(referrals::table)
        .values((
            referrals::id.eq(id),
            referrals::client_id.eq(incoming.client_id),
            referrals::organization_id.eq(incoming.organization_id),
            referrals::territory_id.eq(territory),
            referrals::domain.eq(incoming.domain),
            referrals::family_name.eq(&incoming.family_name),
            referrals::given_names.eq(&incoming.given_names),
            referrals::birth_date.eq(incoming.birth_date),
            referrals::commune_insee.eq(&incoming.commune_insee),
            referrals::partner_number.eq(&incoming.partner_number),
            referrals::nir_ciphertext.eq(incoming.nir.as_ref().map(|n| keys.encrypt_nir(id, n))),
            referrals::nir_index.eq(incoming.nir.as_ref().map(|n| keys.nir_index(n))),
            referrals::reason.eq(&incoming.reason),
            referrals::contact.eq(&incoming.contact),
        ))
        .returning(Referral::as_returning())
        .get_result(tx.conn())
        .await?;
    Ok(referral)
}

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

/// A referral of `organization`, as its receipt.
pub async fn receipt(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    organization: Uuid,
    record: &NewRecord,
) -> QueryResult<Option<Receipt>> {
    referrals::table
        .left_join(persons_t::table)
        .filter(referrals::id.eq(id))
        .filter(referrals::organization_id.eq(organization))
        .select((
            Referral::as_select(),
            persons_t::sharing_objection.nullable(),
        ))
        .audited_one(record)
        .get_result::<(Referral, Option<bool>)>(conn)
        .await
        .optional()
        .map(|row| {
            row.map(|(referral, objection)| Receipt {
                referral,
                sharing_objection: objection.unwrap_or(false),
            })
        })
}

/// What staff filter the queue by.
#[derive(Debug, Default)]
pub struct QueueFilters {
    pub status: Option<ReferralStatus>,
    pub domain: Option<Domain>,
    pub territory: Option<Uuid>,
}

/// The referrals of the caller's territories and domains, oldest first.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    filters: &QueueFilters,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Referral>> {
    let mut query = referrals::table
        .filter(referrals_triaged(who))
        .select(Referral::as_select())
        .order(referrals::id)
        .into_boxed();
    if let Some(status) = filters.status {
        query = query.filter(referrals::status.eq(status));
    }
    if let Some(domain) = filters.domain {
        query = query.filter(referrals::domain.eq(domain));
    }
    if let Some(territory) = filters.territory {
        query = query.filter(referrals::territory_id.eq(territory));
    }
    if let Some(after) = page.after {
        query = query.filter(referrals::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

fn not_found() -> Error {
    Error::not_found("No such referral in your territories and domains.")
}

/// A pending referral of the caller's queue, locked for the decision.
async fn lock_pending(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
) -> Result<Referral, Error> {
    let referral: Referral = referrals::table
        .find(id)
        .filter(referrals_triaged(who))
        .select(Referral::as_select())
        .for_update()
        .first(&mut *conn)
        .await
        .optional()?
        .ok_or_else(not_found)?;
    if referral.status != ReferralStatus::Pending {
        return Err(Error::conflict(format!(
            "This referral was already {}.",
            name_of(&referral.status)
        )));
    }
    Ok(referral)
}

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

/// Accepts a pending referral: the person, the pathway, the referral's
/// decision and its events, in one transaction. From this moment the
/// referring partner follows the pathway.
pub async fn accept(
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
    // Two referrals of one person accepted at once must find one person
    // and one pathway: those for one birth date are taken one at a time.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('referral ' || $1::text))")
        .bind::<Date, _>(referral.birth_date)
        .execute(tx.conn())
        .await?;
    let kind: OrganizationKind = organizations::table
        .find(referral.organization_id)
        .select(organizations::kind)
        .first(tx.conn())
        .await?;
    let nir = referral
        .nir_ciphertext
        .as_deref()
        .and_then(|sealed| keys.decrypt_nir(referral.id, sealed));
    let nir_index = nir.as_ref().map(|n| keys.nir_index(n));
    let chosen = match acceptance.person_id {
        Some(person) => Some(chosen_person(tx, who, person).await?),
        None => find_person(tx, who, &referral, kind, nir_index.as_deref()).await?,
    };
    let person_matched = chosen.is_some();
    let (person, partner_number_differs) = match chosen {
        Some(person) => {
            let differs =
                merge_identifiers(tx, keys, &person, &referral, kind, nir.as_ref()).await?;
            (person, differs)
        }
        None => (
            create_person(tx, keys, &referral, kind, nir.as_ref()).await?,
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
    let open: Option<(Uuid, Option<Uuid>)> = pathways_t::table
        .filter(pathways_t::person_id.eq(person.id))
        .filter(pathways_t::domain.eq(referral.domain))
        .filter(pathways_t::status.ne(PathwayStatus::Closed))
        .select((pathways_t::id, pathways_t::referent_id))
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
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
    let referral: Referral = diesel::update(referrals::table.find(referral.id))
        .set((
            referrals::status.eq(ReferralStatus::Accepted),
            referrals::person_id.eq(person.id),
            referrals::pathway_id.eq(pathway_id),
            referrals::person_matched.eq(person_matched),
            referrals::pathway_opened.eq(opening.is_some()),
            referrals::decided_at.eq(diesel::dsl::now),
            referrals::decided_by.eq(actor),
        ))
        .returning(Referral::as_returning())
        .get_result(tx.conn())
        .await?;
    match (&opening, open, referent) {
        (Some(new), _, _) => {
            pathways::open(tx, new, actor, Some(&referral.reason)).await?;
        }
        (None, Some((_, current)), Some(referent)) if current != Some(referent) => {
            take_as_referent(tx, acceptance, pathway_id, current, referent).await?;
        }
        _ => {}
    }
    events::record(
        tx,
        pathway_id,
        actor,
        EventData::ReferralAccepted(event::ReferralAccepted {
            referral_id: referral.id,
            organization_id: referral.organization_id,
            domain: referral.domain,
            pathway_opened: opening.is_some(),
            partner_number_differs,
        }),
    )
    .await?;
    Ok(Accepted {
        referral,
        partner_number_differs,
    })
}

/// Declines a pending referral with a coded reason; the partner is told
/// through its receipt and its feed.
pub async fn decline(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    reason: ReferralDeclineReason,
    comment: Option<&str>,
) -> Result<Referral, Error> {
    let actor = who.subject.id();
    let referral = lock_pending(tx, who, id).await?;
    let referral: Referral = diesel::update(referrals::table.find(referral.id))
        .set((
            referrals::status.eq(ReferralStatus::Declined),
            referrals::decline_reason.eq(reason),
            referrals::decision_comment.eq(comment),
            referrals::decided_at.eq(diesel::dsl::now),
            referrals::decided_by.eq(actor),
        ))
        .returning(Referral::as_returning())
        .get_result(tx.conn())
        .await?;
    events::record_unattached(
        tx,
        actor,
        EventData::ReferralDeclined(event::ReferralDeclined {
            referral_id: referral.id,
            organization_id: referral.organization_id,
            domain: referral.domain,
            decline_reason: reason,
        }),
    )
    .await?;
    Ok(referral)
}

/// The person staff chose, if in their territories, locked.
async fn chosen_person(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
) -> Result<Person, Error> {
    persons_t::table
        .find(id)
        .filter(persons_visible(who))
        .select(Person::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::unprocessable("person_id", "is no person of your territories"))
}

#[derive(QueryableByName)]
struct Matched {
    #[diesel(embed)]
    person: Person,
}

/// Finds the person among those of the caller's territories: by partner
/// number (with the birth date: a CAF number covers a household), then by
/// NIR, then by a close name and the same birth date.
async fn find_person(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    referral: &Referral,
    kind: OrganizationKind,
    nir_index: Option<&[u8]>,
) -> QueryResult<Option<Person>> {
    let column = number_column(kind);
    let found: Option<Matched> = diesel::sql_query(format!(
        "SELECT p.* FROM persons p \
         WHERE p.territory_id = ANY($5) \
           AND (($1::text IS NOT NULL AND p.{column} = $1 AND p.birth_date = $2) \
            OR ($3::bytea IS NOT NULL AND p.nir_index = $3) \
            OR (p.birth_date = $2 AND similarity(p.search_name, parcours_fold($4)) >= 0.6)) \
         ORDER BY (p.nir_index IS NOT DISTINCT FROM $3) DESC, \
                  (p.{column} IS NOT DISTINCT FROM $1) DESC, \
                  similarity(p.search_name, parcours_fold($4)) DESC, p.id \
         LIMIT 1 FOR UPDATE"
    ))
    .bind::<Nullable<Text>, _>(referral.partner_number.as_deref())
    .bind::<Date, _>(referral.birth_date)
    .bind::<Nullable<Bytea>, _>(nir_index)
    .bind::<Text, _>(format!("{} {}", referral.family_name, referral.given_names))
    .bind::<Array<SqlUuid>, _>(&who.territories)
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|m| m.person))
}

fn number_column(kind: OrganizationKind) -> &'static str {
    match kind {
        OrganizationKind::Msa => "msa_number",
        _ => "caf_number",
    }
}

/// Gives the person the partner's number and the NIR where it has none;
/// never overwrites a different one. Whether the partner's number differed.
async fn merge_identifiers(
    tx: &mut Tx<'_>,
    keys: &PersonalDataKeys,
    person: &Person,
    referral: &Referral,
    kind: OrganizationKind,
    nir: Option<&Nir>,
) -> QueryResult<bool> {
    let held = match kind {
        OrganizationKind::Msa => person.msa_number.as_deref(),
        _ => person.caf_number.as_deref(),
    };
    let number = referral.partner_number.as_deref();
    let add_number = held.is_none() && number.is_some();
    let differs = matches!((held, number), (Some(a), Some(b)) if a != b);
    let add_nir = person.nir_ciphertext.is_none() && nir.is_some();
    if add_number || add_nir {
        let column = number_column(kind);
        diesel::sql_query(format!(
            "UPDATE persons SET {column} = coalesce({column}, $2), \
                 nir_ciphertext = coalesce(nir_ciphertext, $3), \
                 nir_index = coalesce(nir_index, $4), \
                 version = version + 1, updated_at = now() \
             WHERE id = $1"
        ))
        .bind::<SqlUuid, _>(person.id)
        .bind::<Nullable<Text>, _>(number)
        .bind::<Nullable<Bytea>, _>(nir.map(|n| keys.encrypt_nir(person.id, n)))
        .bind::<Nullable<Bytea>, _>(nir.map(|n| keys.nir_index(n)))
        .execute(tx.conn())
        .await?;
    }
    Ok(differs)
}

async fn create_person(
    tx: &mut Tx<'_>,
    keys: &PersonalDataKeys,
    referral: &Referral,
    kind: OrganizationKind,
    nir: Option<&Nir>,
) -> Result<Person, Error> {
    let id = Uuid::now_v7();
    let (caf_number, msa_number) = match kind {
        OrganizationKind::Msa => (None, referral.partner_number.clone()),
        _ => (referral.partner_number.clone(), None),
    };
    let new = NewPerson {
        id,
        family_name: referral.family_name.clone(),
        given_names: referral.given_names.clone(),
        birth_date: referral.birth_date,
        sex: None,
        commune_insee: referral.commune_insee.clone(),
        territory_id: referral.territory_id,
        caf_number,
        msa_number,
        legal_representative: None,
        sharing_objection: false,
        nir_ciphertext: nir.map(|n| keys.encrypt_nir(id, n)),
        nir_index: nir.map(|n| keys.nir_index(n)),
    };
    Ok(persons::insert(tx, &new).await?)
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
    diesel::update(pathways_t::table.find(pathway))
        .set((
            pathways_t::referent_id.eq(referent),
            pathways_t::version.eq(pathways_t::version + 1),
        ))
        .execute(tx.conn())
        .await?;
    events::record(
        tx,
        pathway,
        referent, // the caller, who takes the pathway
        EventData::ReferentAssigned(event::ReferentAssigned {
            from: current,
            to: referent,
        }),
    )
    .await?;
    Ok(())
}

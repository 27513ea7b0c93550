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
use crate::db::persons::{self, NewPerson, Person};
use crate::db::schema::{organizations, pathways as pathways_t, persons as persons_t, referrals};
use crate::db::scope::{persons_visible, referrals_triaged};
use crate::domain::nir::Nir;
use crate::domain::principal::Principal;
use crate::domain::{
    Domain, OrganizationKind, PathwayStatus, ReferralDeclineReason, ReferralStatus,
};
use crate::privacy::{PersonalDataKeys, SealedNir};

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

/// Queues the referral in `territory`, its NIR sealed.
pub async fn insert(
    tx: &mut Tx<'_>,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
    territory: Uuid,
) -> QueryResult<Referral> {
    let id = Uuid::now_v7();
    let sealed = SealedNir::columns(incoming.nir.as_ref().map(|n| keys.seal_nir(id, n)));
    diesel::insert_into(referrals::table)
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
            referrals::nir_ciphertext.eq(sealed.0),
            referrals::nir_index.eq(sealed.1),
            referrals::reason.eq(&incoming.reason),
            referrals::contact.eq(&incoming.contact),
        ))
        .returning(Referral::as_returning())
        .get_result(tx.conn())
        .await
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

pub fn not_found() -> Error {
    Error::not_found("No such referral in your territories and domains.")
}

/// A referral of the caller's queue, locked for the decision.
pub async fn lock_in_queue(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<Referral>> {
    referrals::table
        .find(id)
        .filter(referrals_triaged(who))
        .select(Referral::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// Two referrals of one person accepted at once must find one person and
/// one pathway: those for one birth date are taken one at a time.
pub async fn serialize_birth_date(tx: &mut Tx<'_>, birth_date: NaiveDate) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('referral ' || $1::text))")
        .bind::<Date, _>(birth_date)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn organization_kind(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<OrganizationKind> {
    organizations::table
        .find(id)
        .select(organizations::kind)
        .first(conn)
        .await
}

/// The open pathway of `person` in `domain`, locked, with its referent.
pub async fn open_pathway_locked(
    tx: &mut Tx<'_>,
    person: Uuid,
    domain: Domain,
) -> QueryResult<Option<(Uuid, Option<Uuid>)>> {
    pathways_t::table
        .filter(pathways_t::person_id.eq(person))
        .filter(pathways_t::domain.eq(domain))
        .filter(pathways_t::status.ne(PathwayStatus::Closed))
        .select((pathways_t::id, pathways_t::referent_id))
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// The decision to accept: the person and pathway it went to.
pub struct AcceptedRow {
    pub person_id: Uuid,
    pub pathway_id: Uuid,
    pub person_matched: bool,
    pub pathway_opened: bool,
    pub decided_by: Uuid,
}

pub async fn write_accepted(tx: &mut Tx<'_>, id: Uuid, row: &AcceptedRow) -> QueryResult<Referral> {
    diesel::update(referrals::table.find(id))
        .set((
            referrals::status.eq(ReferralStatus::Accepted),
            referrals::person_id.eq(row.person_id),
            referrals::pathway_id.eq(row.pathway_id),
            referrals::person_matched.eq(row.person_matched),
            referrals::pathway_opened.eq(row.pathway_opened),
            referrals::decided_at.eq(diesel::dsl::now),
            referrals::decided_by.eq(row.decided_by),
        ))
        .returning(Referral::as_returning())
        .get_result(tx.conn())
        .await
}

pub async fn write_declined(
    tx: &mut Tx<'_>,
    id: Uuid,
    reason: ReferralDeclineReason,
    comment: Option<&str>,
    by: Uuid,
) -> QueryResult<Referral> {
    diesel::update(referrals::table.find(id))
        .set((
            referrals::status.eq(ReferralStatus::Declined),
            referrals::decline_reason.eq(reason),
            referrals::decision_comment.eq(comment),
            referrals::decided_at.eq(diesel::dsl::now),
            referrals::decided_by.eq(by),
        ))
        .returning(Referral::as_returning())
        .get_result(tx.conn())
        .await
}

/// The person staff chose, if in their territories, locked.
pub async fn chosen_person(
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
pub async fn find_person(
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
pub async fn merge_identifiers(
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
        let (ciphertext, index) = SealedNir::columns(nir.map(|n| keys.seal_nir(person.id, n)));
        diesel::sql_query(format!(
            "UPDATE persons SET {column} = coalesce({column}, $2), \
                 nir_ciphertext = coalesce(nir_ciphertext, $3), \
                 nir_index = coalesce(nir_index, $4), \
                 version = version + 1, updated_at = now() \
             WHERE id = $1"
        ))
        .bind::<SqlUuid, _>(person.id)
        .bind::<Nullable<Text>, _>(number)
        .bind::<Nullable<Bytea>, _>(ciphertext)
        .bind::<Nullable<Bytea>, _>(index)
        .execute(tx.conn())
        .await?;
    }
    Ok(differs)
}

pub async fn create_person(
    tx: &mut Tx<'_>,
    keys: &PersonalDataKeys,
    referral: &Referral,
    kind: OrganizationKind,
    nir: Option<&Nir>,
) -> Result<Person, Error> {
    let id = Uuid::now_v7();
    let (nir_ciphertext, nir_index) = SealedNir::columns(nir.map(|n| keys.seal_nir(id, n)));
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
        nir_ciphertext,
        nir_index,
    };
    Ok(persons::insert(tx, &new).await?)
}

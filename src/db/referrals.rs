//! Referrals from partners: match or create the person, open or join the
//! pathway of the domain, record the referral — one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Date, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::pathways::{self, NewPathway};
use crate::db::persons::{self, NewPerson, Person};
use crate::db::schema::{
    communes, pathways as pathways_t, persons as persons_t, referrals, territories,
};
use crate::db::{domain_calendar, events};
use crate::domain::enums::name_of;
use crate::domain::nir::Nir;
use crate::domain::rollout::check_pathway_date;
use crate::domain::{Domain, EventKind, OrganizationKind, PathwayStatus};
use crate::error::ApiError;
use crate::privacy::PersonalDataKeys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = referrals, check_for_backend(diesel::pg::Pg))]
pub struct Referral {
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub person_id: Uuid,
    pub pathway_id: Uuid,
    pub domain: Domain,
    pub received_at: DateTime<Utc>,
}

/// What a partner says about the person it refers.
pub struct Incoming {
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub organization_kind: OrganizationKind,
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

/// Where a referral stands, as its partner may see it.
#[derive(Debug, Clone)]
pub struct Standing {
    pub referral: Referral,
    pub pathway_status: PathwayStatus,
    /// The territory whose service follows the pathway.
    pub service: String,
    /// The person objected to sharing: the partner sees the receipt only.
    pub sharing_objection: bool,
}

#[derive(QueryableByName)]
struct Matched {
    #[diesel(embed)]
    person: Person,
}

/// Finds the person: by partner number (with the birth date: a CAF number
/// covers a household), then by NIR, then by a close name and the same
/// birth date. Not scoped: matching is the system's own and never shown to the partner.
async fn find_person(
    conn: &mut AsyncPgConnection,
    incoming: &Incoming,
    nir_index: Option<&[u8]>,
) -> QueryResult<Option<Person>> {
    let column = match incoming.organization_kind {
        OrganizationKind::Msa => "msa_number",
        _ => "caf_number",
    };
    let found: Option<Matched> = diesel::sql_query(format!(
        "SELECT p.* FROM persons p \
         WHERE ($1::text IS NOT NULL AND p.{column} = $1 AND p.birth_date = $2) \
            OR ($3::bytea IS NOT NULL AND p.nir_index = $3) \
            OR (p.birth_date = $2 AND similarity(p.search_name, parcours_fold($4)) >= 0.6) \
         ORDER BY (p.nir_index IS NOT DISTINCT FROM $3) DESC, \
                  (p.{column} IS NOT DISTINCT FROM $1) DESC, \
                  similarity(p.search_name, parcours_fold($4)) DESC, p.id \
         LIMIT 1"
    ))
    .bind::<Nullable<Text>, _>(incoming.partner_number.as_deref())
    .bind::<Date, _>(incoming.birth_date)
    .bind::<Nullable<Bytea>, _>(nir_index)
    .bind::<Text, _>(format!("{} {}", incoming.family_name, incoming.given_names))
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|m| m.person))
}

pub async fn receive(
    conn: &mut AsyncPgConnection,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
) -> Result<Standing, ApiError> {
    let today = Utc::now().date_naive();
    conn.transaction(async |conn| {
        // Identical referrals sent at once must find one person and one
        // pathway: those for one birth date are taken one at a time.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('referral ' || $1::text))")
            .bind::<Date, _>(incoming.birth_date)
            .execute(&mut *conn)
            .await?;
        let opening = domain_calendar::find(conn, incoming.domain)
            .await?
            .ok_or_else(|| ApiError::unprocessable("domain", "has no opening date"))?;
        check_pathway_date(opening.opens_on, today, today).map_err(|closed| {
            ApiError::DomainNotOpen {
                detail: format!(
                    "The domain `{}` accepts referrals from {} on.",
                    name_of(&incoming.domain),
                    closed.opens_on
                ),
                opens_on: closed.opens_on,
            }
        })?;
        let nir_index = incoming.nir.as_ref().map(|nir| keys.nir_index(nir));
        let (person, person_matched) =
            match find_person(conn, incoming, nir_index.as_deref()).await? {
                Some(person) => (person, true),
                None => (create_person(conn, keys, incoming, nir_index).await?, false),
            };
        let open: Option<Uuid> = pathways_t::table
            .filter(pathways_t::person_id.eq(person.id))
            .filter(pathways_t::domain.eq(incoming.domain))
            .filter(pathways_t::status.ne(PathwayStatus::Closed))
            .select(pathways_t::id)
            .for_update()
            .first(&mut *conn)
            .await
            .optional()?;
        let (pathway_id, opening) = match open {
            Some(id) => (id, None),
            None => {
                let new = NewPathway {
                    id: Uuid::now_v7(),
                    person_id: person.id,
                    domain: incoming.domain,
                    territory_id: person.territory_id,
                    referent_id: None,
                    opened_on: today,
                };
                (new.id, Some(new))
            }
        };
        // The referral comes first (its foreign key to the pathway is
        // checked at commit), so that the opening event already counts
        // this partner among those who follow the pathway (webhook outbox).
        let referral: Referral = diesel::insert_into(referrals::table)
            .values((
                referrals::id.eq(Uuid::now_v7()),
                referrals::client_id.eq(incoming.client_id),
                referrals::organization_id.eq(incoming.organization_id),
                referrals::person_id.eq(person.id),
                referrals::pathway_id.eq(pathway_id),
                referrals::domain.eq(incoming.domain),
                referrals::reason.eq(&incoming.reason),
                referrals::contact.eq(&incoming.contact),
                referrals::person_matched.eq(person_matched),
                referrals::pathway_opened.eq(opening.is_some()),
            ))
            .returning(Referral::as_returning())
            .get_result(&mut *conn)
            .await?;
        let pathway_opened = opening.is_some();
        if let Some(new) = opening {
            pathways::open(conn, &new, incoming.client_id, Some(&incoming.reason)).await?;
        }
        events::record(
            conn,
            pathway_id,
            EventKind::ReferralReceived,
            incoming.client_id,
            json!({
                "referral_id": referral.id,
                "organization_id": incoming.organization_id,
                "pathway_opened": pathway_opened,
            }),
        )
        .await?;
        // Recorded as the referral's creation, not as a read.
        standing(conn, referral.id, incoming.organization_id, None)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a referral just made is missing")))
    })
    .await
}

async fn create_person(
    conn: &mut AsyncPgConnection,
    keys: &PersonalDataKeys,
    incoming: &Incoming,
    nir_index: Option<Vec<u8>>,
) -> Result<Person, ApiError> {
    let territory: Uuid = communes::table
        .find(&incoming.commune_insee)
        .select(communes::territory_id)
        .first(&mut *conn)
        .await
        .optional()?
        .ok_or_else(|| {
            ApiError::unprocessable(
                "commune_insee",
                "is not a commune the département's territories cover",
            )
        })?;
    let id = Uuid::now_v7();
    let (caf_number, msa_number) = match incoming.organization_kind {
        OrganizationKind::Msa => (None, incoming.partner_number.clone()),
        _ => (incoming.partner_number.clone(), None),
    };
    let new = NewPerson {
        id,
        family_name: incoming.family_name.clone(),
        given_names: incoming.given_names.clone(),
        birth_date: incoming.birth_date,
        sex: None,
        commune_insee: incoming.commune_insee.clone(),
        territory_id: territory,
        caf_number,
        msa_number,
        legal_representative: None,
        sharing_objection: false,
        nir_ciphertext: incoming.nir.as_ref().map(|nir| keys.encrypt_nir(id, nir)),
        nir_index,
    };
    Ok(persons::insert(conn, &new).await?)
}

/// A referral of `organization`, with where its pathway stands.
pub async fn standing(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    organization: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Standing>> {
    let query = referrals::table
        .inner_join(pathways_t::table.inner_join(territories::table))
        .inner_join(persons_t::table)
        .filter(referrals::id.eq(id))
        .filter(referrals::organization_id.eq(organization))
        .select((
            Referral::as_select(),
            pathways_t::status,
            territories::name,
            persons_t::sharing_objection,
        ));
    let row: Option<(Referral, PathwayStatus, String, bool)> = match record {
        Some(record) => query.audited_one(record).get_result(conn).await,
        None => query.first(conn).await,
    }
    .optional()?;
    Ok(row.map(
        |(referral, pathway_status, service, sharing_objection)| Standing {
            referral,
            pathway_status,
            service,
            sharing_objection,
        },
    ))
}

//! Persons: identity, partner numbers, encrypted NIR; search and likely
//! duplicates. Every query is scoped to the caller (`db::scope`).

use crate::db::Error;
use crate::db::Tx;
use crate::db::versioned::at_version;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{
    Array, Bool, Bytea, Date, Double, Integer, Nullable, Text, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::schema::persons;
use crate::db::scope::{persons_visible, scope_arrays};
use crate::domain::Sex;
use crate::domain::principal::Principal;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = persons, check_for_backend(diesel::pg::Pg))]
pub struct Person {
    pub id: Uuid,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub sex: Option<Sex>,
    pub commune_insee: String,
    pub territory_id: Uuid,
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    pub legal_representative: Option<String>,
    pub sharing_objection: bool,
    pub nir_ciphertext: Option<Vec<u8>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Person);

#[derive(Debug, Insertable)]
#[diesel(table_name = persons, check_for_backend(diesel::pg::Pg))]
pub struct NewPerson {
    pub id: Uuid,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub sex: Option<Sex>,
    pub commune_insee: String,
    pub territory_id: Uuid,
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    pub legal_representative: Option<String>,
    pub sharing_objection: bool,
    pub nir_ciphertext: Option<Vec<u8>>,
    pub nir_index: Option<Vec<u8>>,
}

/// `None` leaves a field as it is; `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = persons, check_for_backend(diesel::pg::Pg))]
pub struct PersonChanges {
    pub family_name: Option<String>,
    pub given_names: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Option<Sex>>,
    pub commune_insee: Option<String>,
    pub territory_id: Option<Uuid>,
    pub caf_number: Option<Option<String>>,
    pub msa_number: Option<Option<String>>,
    pub legal_representative: Option<Option<String>>,
    pub sharing_objection: Option<bool>,
    pub nir_ciphertext: Option<Option<Vec<u8>>>,
    pub nir_index: Option<Option<Vec<u8>>>,
}

/// What a search may filter on; all given filters must match.
#[derive(Debug, Default)]
pub struct Search {
    /// Name, folded and matched by trigram word similarity.
    pub name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    pub nir_index: Option<Vec<u8>>,
}

impl Search {
    /// The name, when it is the only criterion.
    fn name_alone(&self) -> Option<&str> {
        match self {
            Search {
                name: Some(name),
                birth_date: None,
                caf_number: None,
                msa_number: None,
                nir_index: None,
            } => Some(name),
            _ => None,
        }
    }
}

/// A person like another one, with how alike (0 to 1).
#[derive(Debug, Clone, QueryableByName)]
pub struct Candidate {
    #[diesel(embed)]
    pub person: Person,
    #[diesel(sql_type = Double)]
    pub score: f64,
}

/// What a possible duplicate is compared on.
#[derive(Debug)]
pub struct Probe {
    pub exclude: Option<Uuid>,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    pub nir_index: Option<Vec<u8>>,
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewPerson) -> QueryResult<Person> {
    diesel::insert_into(persons::table)
        .values(new)
        .returning(Person::as_returning())
        .get_result(tx.conn())
        .await
}

/// The person, if in the caller's scope: an answer, audited in the same statement,
/// with a `record`; a check without ([`AuditedDsl::audited_one_if`]).
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Person>> {
    persons::table
        .find(id)
        .filter(persons_visible(who))
        .select(Person::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()
}

/// Whether the person exists at all (for auditors, who see no file).
pub async fn exists(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(persons::table.find(id)))
        .get_result(conn)
        .await
}

/// Applies `changes` if `version` is current and the person is in scope.
pub async fn update(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    version: i32,
    changes: &PersonChanges,
) -> Result<Person, Error> {
    let locked = persons::table
        .filter(persons::id.eq(id))
        .filter(persons_visible(who))
        .select(Person::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    at_version(locked, version).map_err(|e| e.refused(not_found))?;
    Ok(diesel::update(persons::table.find(id))
        .set((changes, persons::version.eq(version + 1)))
        .returning(Person::as_returning())
        .get_result(tx.conn())
        .await?)
}

/// With a name: the best matches first, at most `limit` (no next page).
/// Without: every match in id order, paginated.
pub async fn search(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    search: &Search,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Person>> {
    let mut query = persons::table
        .filter(persons_visible(who))
        .select(Person::as_select())
        .into_boxed();
    if let Some(birth_date) = search.birth_date {
        query = query.filter(persons::birth_date.eq(birth_date));
    }
    if let Some(caf) = &search.caf_number {
        query = query.filter(persons::caf_number.eq(caf));
    }
    if let Some(msa) = &search.msa_number {
        query = query.filter(persons::msa_number.eq(msa));
    }
    if let Some(index) = &search.nir_index {
        query = query.filter(persons::nir_index.eq(index));
    }
    if let Some(name) = search.name_alone() {
        return by_name(conn, who, name, page.limit, record).await;
    }
    match &search.name {
        Some(name) => {
            // `<%` finds a word of the name (a family name alone), `%` the
            // whole name with a typo; both use the trigram index.
            query
                .filter(
                    sql::<Bool>("(parcours_fold(")
                        .bind::<Text, _>(name.clone())
                        .sql(") <% search_name OR parcours_fold(")
                        .bind::<Text, _>(name.clone())
                        .sql(") % search_name)"),
                )
                .order((
                    sql::<Double>("greatest(word_similarity(parcours_fold(")
                        .bind::<Text, _>(name.clone())
                        .sql("), search_name), similarity(parcours_fold(")
                        .bind::<Text, _>(name.clone())
                        .sql("), search_name)) DESC"),
                    persons::id,
                ))
                .limit(page.limit)
                .audited_list(record, "id", page.limit)
                .load(conn)
                .await
        }
        None => {
            if let Some(after) = page.after {
                query = query.filter(persons::id.gt(after));
            }
            query
                .order(persons::id)
                .audited_page(record, "id", page.limit)
                .load(conn)
                .await
        }
    }
}

/// The best `limit` matches of a name alone, read from the name words
/// (`parcours_search_persons`, which documents the matching): only the
/// rows returned are read, whatever the number of persons. Anonymised
/// persons have no name to find.
async fn by_name(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    name: &str,
    limit: i64,
    record: &NewRecord,
) -> QueryResult<Vec<Person>> {
    let (territories, _) = scope_arrays(who);
    // Equal scores: the name closest as a whole first (« martin jean »
    // before « martin jean-pierre »).
    diesel::sql_query(
        "SELECT p.* FROM parcours_search_persons($1, $2, $3) s \
         JOIN persons p ON p.id = s.person_id \
         WHERE p.territory_id = ANY($2) \
         ORDER BY s.score DESC, similarity(p.search_name, parcours_fold($1)) DESC, p.id",
    )
    .bind::<Text, _>(name)
    .bind::<Array<SqlUuid>, _>(territories)
    .bind::<Integer, _>(i32::try_from(limit).unwrap_or(i32::MAX))
    .audited_list(record, "id", limit)
    .load(conn)
    .await
}

/// Persons in scope who are likely the same as `probe`, most alike first:
/// the same NIR (score 1); or the same birth date and a close name; or the
/// same CAF/MSA number and a close name. Names are compared folded
/// (accents, case) by trigram similarity.
pub async fn candidates(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    probe: &Probe,
    record: &NewRecord,
) -> QueryResult<Vec<Candidate>> {
    let (territories, _) = scope_arrays(who);
    diesel::sql_query(
        "WITH probe AS (SELECT parcours_fold($1) AS name) \
         SELECT p.*, scored.score FROM persons p, probe, LATERAL ( \
             SELECT round(CASE \
                 WHEN $3::bytea IS NOT NULL AND p.nir_index = $3 THEN 1.0 \
                 WHEN p.birth_date = $2 THEN 0.4 + 0.6 * similarity(p.search_name, probe.name) \
                 ELSE 0.3 + 0.6 * similarity(p.search_name, probe.name) \
             END::numeric, 2)::float8 AS score) scored \
         WHERE p.territory_id = ANY($6) \
           AND ($7::uuid IS NULL OR p.id <> $7) \
           AND ( ($3::bytea IS NOT NULL AND p.nir_index = $3) \
              OR (p.birth_date = $2 AND similarity(p.search_name, probe.name) >= 0.4) \
              OR ((p.caf_number = $4 OR p.msa_number = $5) \
                  AND similarity(p.search_name, probe.name) >= 0.4) ) \
         ORDER BY scored.score DESC, p.id LIMIT 20",
    )
    .bind::<Text, _>(&probe.full_name)
    .bind::<Date, _>(probe.birth_date)
    .bind::<Nullable<Bytea>, _>(probe.nir_index.as_deref())
    .bind::<Nullable<Text>, _>(probe.caf_number.as_deref())
    .bind::<Nullable<Text>, _>(probe.msa_number.as_deref())
    .bind::<Array<SqlUuid>, _>(territories)
    .bind::<Nullable<SqlUuid>, _>(probe.exclude)
    .audited_list(record, "id", 20)
    .load(conn)
    .await
}

pub fn not_found() -> Error {
    Error::not_found("No such person in your territories.")
}

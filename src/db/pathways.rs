//! Pathways: one person's support in one domain, with its status history.
//! Reads are scoped in SQL; every change writes its timeline event in the
//! same transaction and checks the version it was asked against.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::Jsonb;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::fixed_sql::{Fixed, fixed};
use crate::db::schema::{pathway_status_periods, pathways, territories, user_territories, users};
use crate::db::scope::{self, pathways_visible};
use crate::db::versioned::at_version;
use crate::domain::policy::REFERENT_ROLES;
use crate::domain::principal::Principal;
use crate::domain::{ClosureReason, ContinuationReason, Domain, EscalationLevel, PathwayStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pathways, check_for_backend(diesel::pg::Pg))]
pub struct Pathway {
    pub id: Uuid,
    pub person_id: Uuid,
    pub domain: Domain,
    pub territory_id: Uuid,
    pub referent_id: Option<Uuid>,
    pub status: PathwayStatus,
    pub status_since: DateTime<Utc>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub closure_reason: Option<ClosureReason>,
    pub critical_level: Option<EscalationLevel>,
    pub critical_reason: Option<String>,
    pub critical_since: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub continues_from: Option<Uuid>,
    pub continuation_reason: Option<ContinuationReason>,
}

crate::db::versioned::versioned!(Pathway);

#[derive(Debug, Insertable)]
#[diesel(table_name = pathways, check_for_backend(diesel::pg::Pg))]
pub struct NewPathway {
    pub id: Uuid,
    pub person_id: Uuid,
    pub domain: Domain,
    pub territory_id: Uuid,
    pub referent_id: Option<Uuid>,
    pub opened_on: NaiveDate,
    /// The person's pathway this one continues, and why.
    pub continues_from: Option<Uuid>,
    pub continuation_reason: Option<ContinuationReason>,
}

/// One status and how long it lasted; the current one has no end.
#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = pathway_status_periods, check_for_backend(diesel::pg::Pg))]
pub struct StatusPeriod {
    pub status: PathwayStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

#[derive(Debug, Default)]
pub struct Filters {
    pub domain: Option<Domain>,
    pub status: Option<PathwayStatus>,
    pub territory: Option<Uuid>,
    pub referent: Option<Uuid>,
    pub critical: Option<bool>,
    pub opened_from: Option<NaiveDate>,
    pub opened_to: Option<NaiveDate>,
    pub person: Option<Uuid>,
}

/// A requested status change.
#[derive(Debug)]
pub struct Transition {
    pub to: PathwayStatus,
    pub reason: String,
    pub closure_reason: Option<ClosureReason>,
}

/// The pathway, if in the caller's scope: an answer, audited in the same statement,
/// with a `record`; a check without ([`AuditedDsl::audited_one_if`]).
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Pathway>> {
    pathways::table
        .find(id)
        .filter(pathways_visible(who))
        .select(Pathway::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()
}

/// A pathway's status periods in order, as one JSON column of its row
/// (the fields of [`StatusPeriod`]).
const HISTORY_JSON: Fixed<Jsonb> = fixed(
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('status', s.status, \
     'started_at', s.started_at, 'ended_at', s.ended_at, 'reason', s.reason) ORDER BY s.id), \
     '[]'::jsonb) FROM pathway_status_periods s WHERE s.pathway_id = pathways.id)",
);

/// The pathway and its status history, if in scope, with the read's audit
/// record: one statement, so one round trip (prepared once per connection:
/// the history's text is fixed).
pub async fn find_with_history(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: &NewRecord,
) -> QueryResult<Option<(Pathway, Vec<StatusPeriod>)>> {
    let row: Option<(Pathway, serde_json::Value)> = pathways::table
        .find(id)
        .filter(pathways_visible(who))
        .select((Pathway::as_select(), HISTORY_JSON))
        .audited_one(record)
        .get_result(conn)
        .await
        .optional()?;
    row.map(|(pathway, history)| {
        let history = serde_json::from_value(history)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        Ok((pathway, history))
    })
    .transpose()
}

/// The pathway, locked for the rest of the transaction, if in scope.
async fn locked(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<Pathway>> {
    pathways::table
        .find(id)
        .filter(pathways_visible(who))
        .select(Pathway::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The pathway, locked for the rest of the transaction, or 404.
pub async fn lock(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
) -> Result<Pathway, Error> {
    locked(conn, who, id).await?.ok_or_else(not_found)
}

/// The pathway locked, if it is at the version the caller read.
pub async fn lock_at(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    version: i32,
) -> Result<Pathway, Error> {
    at_version(locked(conn, who, id).await?, version).map_err(|e| e.refused(not_found))
}

/// The referent of pathway `id`.
pub async fn referent_of(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Uuid>> {
    pathways::table
        .find(id)
        .select(pathways::referent_id)
        .first(conn)
        .await
}

/// The refusal of a caller who sees a pathway but may not steer it.
pub fn not_steering() -> Error {
    Error::forbidden("Only the pathway's referent or a supervisor of its territory may do this.")
}

pub fn not_found() -> Error {
    Error::not_found("No such pathway in your territories and domains.")
}

/// Scoped list in id order, one page.
pub async fn list(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    filters: &Filters,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Pathway>> {
    let mut query = pathways::table
        .filter(pathways_visible(who))
        .select(Pathway::as_select())
        .order(pathways::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(pathways::id.gt(after));
    }
    if let Some(domain) = filters.domain {
        query = query.filter(pathways::domain.eq(domain));
    }
    if let Some(status) = filters.status {
        query = query.filter(pathways::status.eq(status));
    }
    if let Some(territory) = filters.territory {
        query = query.filter(pathways::territory_id.eq(territory));
    }
    if let Some(referent) = filters.referent {
        query = query.filter(pathways::referent_id.eq(referent));
    }
    match filters.critical {
        Some(true) => query = query.filter(pathways::critical_level.is_not_null()),
        Some(false) => query = query.filter(pathways::critical_level.is_null()),
        None => {}
    }
    if let Some(from) = filters.opened_from {
        query = query.filter(pathways::opened_on.ge(from));
    }
    if let Some(to) = filters.opened_to {
        query = query.filter(pathways::opened_on.le(to));
    }
    if let Some(person) = filters.person {
        query = query.filter(pathways::person_id.eq(person));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

pub async fn history(
    conn: &mut AsyncPgConnection,
    pathway: Uuid,
) -> QueryResult<Vec<StatusPeriod>> {
    pathway_status_periods::table
        .filter(pathway_status_periods::pathway_id.eq(pathway))
        .order(pathway_status_periods::id)
        .select(StatusPeriod::as_select())
        .load(conn)
        .await
}

/// Whether `user` can be the referent of a pathway in this territory and
/// domain: an active coordinator or supervisor who works there.
pub async fn can_be_referent(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    territory: Uuid,
    domain: Domain,
) -> QueryResult<bool> {
    let found: Option<Uuid> = users::table
        .inner_join(user_territories::table)
        .filter(users::id.eq(user))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(REFERENT_ROLES))
        .filter(user_territories::territory_id.eq(territory))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("")
                .bind::<crate::db::schema::sql_types::Domain, _>(domain)
                .sql(" = ANY(users.domains)"),
        )
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// A pathway in status `referred`, with its first status period. A second
/// open pathway for the same person and domain is a unique violation.
pub async fn insert(
    tx: &mut Tx<'_>,
    new: &NewPathway,
    reason: Option<&str>,
) -> QueryResult<Pathway> {
    let pathway: Pathway = diesel::insert_into(pathways::table)
        .values(new)
        .returning(Pathway::as_returning())
        .get_result(tx.conn())
        .await?;
    diesel::insert_into(pathway_status_periods::table)
        .values((
            pathway_status_periods::pathway_id.eq(pathway.id),
            pathway_status_periods::status.eq(pathway.status),
            pathway_status_periods::started_at.eq(pathway.status_since),
            pathway_status_periods::reason.eq(reason),
        ))
        .execute(tx.conn())
        .await?;
    Ok(pathway)
}

/// The day the pathway `id` of `person` was opened, in any domain (the
/// caller need not see it): what a new pathway of the person may continue.
/// Another person's pathway is not found, so the answer tells nothing of it.
pub async fn opened_on_of_person(
    conn: &mut AsyncPgConnection,
    person: Uuid,
    id: Uuid,
) -> QueryResult<Option<NaiveDate>> {
    pathways::table
        .find(id)
        .filter(pathways::person_id.eq(person))
        .select(pathways::opened_on)
        .first(conn)
        .await
        .optional()
}

/// An open pathway of a person outside the caller's domains and
/// territories, as far as the caller may know it: where, in what status,
/// since when, and who to call.
#[derive(Debug, Clone, Queryable)]
pub struct Elsewhere {
    pub id: Uuid,
    pub domain: Domain,
    pub status: PathwayStatus,
    pub status_since: DateTime<Utc>,
    pub opened_on: NaiveDate,
    pub territory_id: Uuid,
    pub territory_name: String,
    pub referent_name: Option<String>,
    pub referent_email: Option<String>,
}

/// The open pathways of `person` that the caller does not see
/// ([`scope::pathways_elsewhere`]), in domain order, with the record of the
/// look in the same statement (its `result_ids`: the pathways shown). At
/// most one is open per domain.
pub async fn elsewhere(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    person: Uuid,
    record: &NewRecord,
) -> QueryResult<Vec<Elsewhere>> {
    let shown = pathways::table
        .filter(scope::pathways_elsewhere(who))
        .filter(pathways::person_id.eq(person))
        .filter(pathways::status.ne(PathwayStatus::Closed))
        .select(pathways::id)
        .into_boxed();
    let at_most = i64::try_from(Domain::VALUES.len()).unwrap_or(i64::MAX);
    pathways::table
        .inner_join(territories::table)
        .left_join(users::table)
        .filter(pathways::id.eq_any(shown))
        .order((pathways::domain, pathways::id))
        .select((
            pathways::id,
            pathways::domain,
            pathways::status,
            pathways::status_since,
            pathways::opened_on,
            pathways::territory_id,
            territories::name,
            users::display_name.nullable(),
            users::email.nullable(),
        ))
        .audited_list(record, "id", at_most)
        .load(conn)
        .await
}

/// The open pathway of a person in a domain, if any (to name it in a 409).
pub async fn open_in_domain(
    conn: &mut AsyncPgConnection,
    person: Uuid,
    domain: Domain,
) -> QueryResult<Option<Uuid>> {
    pathways::table
        .filter(pathways::person_id.eq(person))
        .filter(pathways::domain.eq(domain))
        .filter(pathways::status.ne(PathwayStatus::Closed))
        .select(pathways::id)
        .first(conn)
        .await
        .optional()
}

/// Writes the move of `current` (read at `version`) to `change.to`,
/// closing the current status period and opening the next one.
pub async fn write_status(
    tx: &mut Tx<'_>,
    current: &Pathway,
    version: i32,
    change: &Transition,
) -> QueryResult<Pathway> {
    let closing = change.to == PathwayStatus::Closed;
    let updated: Pathway = diesel::update(pathways::table.find(current.id))
        .set((
            pathways::status.eq(change.to),
            pathways::status_since.eq(diesel::dsl::now),
            pathways::closure_reason.eq(change.closure_reason),
            pathways::closed_on.eq(closing.then(|| Utc::now().date_naive())),
            pathways::version.eq(version + 1),
        ))
        .returning(Pathway::as_returning())
        .get_result(tx.conn())
        .await?;
    diesel::update(
        pathway_status_periods::table
            .filter(pathway_status_periods::pathway_id.eq(current.id))
            .filter(pathway_status_periods::ended_at.is_null()),
    )
    .set(pathway_status_periods::ended_at.eq(updated.status_since))
    .execute(tx.conn())
    .await?;
    diesel::insert_into(pathway_status_periods::table)
        .values((
            pathway_status_periods::pathway_id.eq(current.id),
            pathway_status_periods::status.eq(change.to),
            pathway_status_periods::started_at.eq(updated.status_since),
            pathway_status_periods::reason.eq(&change.reason),
        ))
        .execute(tx.conn())
        .await?;
    Ok(updated)
}

pub async fn write_referent(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    referent: Uuid,
) -> QueryResult<Pathway> {
    diesel::update(pathways::table.find(id))
        .set((
            pathways::referent_id.eq(referent),
            pathways::version.eq(version + 1),
        ))
        .returning(Pathway::as_returning())
        .get_result(tx.conn())
        .await
}

/// Which pathways of a referent's caseload a transfer takes: the open ones
/// of the caller's scope, narrowed to a domain or a territory.
#[derive(Debug, Clone, Copy)]
pub struct Caseload {
    pub referent: Uuid,
    pub domain: Option<Domain>,
    pub territory: Option<Uuid>,
}

/// What a transfer does, or would do: the pathways handed to the new
/// referent, and those left because the new referent does not work in
/// their territory and domain.
#[derive(Debug, Default)]
pub struct Transferred {
    pub moved: Vec<Uuid>,
    pub left: Vec<Uuid>,
}

/// The most pathways one transfer takes (narrow it by domain or territory
/// beyond).
pub const MAX_TRANSFER: usize = 1000;

/// The open pathways of `caseload` within the caller's scope, locked,
/// as (id, territory, domain): one more than `MAX_TRANSFER` at most.
pub async fn caseload_locked(
    tx: &mut Tx<'_>,
    who: &Principal,
    caseload: Caseload,
) -> QueryResult<Vec<(Uuid, Uuid, Domain)>> {
    // Narrowed within the scope (which the predicate holds anyway).
    let domains = caseload
        .domain
        .map_or_else(|| who.domains.clone(), |domain| vec![domain]);
    let territories = caseload
        .territory
        .map_or_else(|| who.territories.clone(), |territory| vec![territory]);
    pathways::table
        .filter(pathways_visible(who))
        .filter(pathways::referent_id.eq(caseload.referent))
        .filter(pathways::status.ne(PathwayStatus::Closed))
        .filter(pathways::domain.eq_any(domains))
        .filter(pathways::territory_id.eq_any(territories))
        .select((pathways::id, pathways::territory_id, pathways::domain))
        .order(pathways::id)
        .limit(i64::try_from(MAX_TRANSFER).unwrap_or(i64::MAX) + 1)
        .for_update()
        .load(tx.conn())
        .await
}

/// Hands the pathways `ids` to the referent `to`, each at its next version.
pub async fn hand_over(tx: &mut Tx<'_>, ids: &[Uuid], to: Uuid) -> QueryResult<usize> {
    diesel::update(pathways::table.filter(pathways::id.eq_any(ids)))
        .set((
            pathways::referent_id.eq(to),
            pathways::version.eq(pathways::version + 1),
        ))
        .execute(tx.conn())
        .await
}

/// Sets (`Some`) or clears (`None`) the critical flag, with its reason
/// and the day the situation became critical.
pub async fn write_critical(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    level: Option<EscalationLevel>,
    reason: &str,
    since: Option<DateTime<Utc>>,
) -> QueryResult<Pathway> {
    diesel::update(pathways::table.find(id))
        .set((
            pathways::critical_level.eq(level),
            pathways::critical_reason.eq(level.map(|_| reason)),
            pathways::critical_since.eq(since),
            pathways::version.eq(version + 1),
        ))
        .returning(Pathway::as_returning())
        .get_result(tx.conn())
        .await
}

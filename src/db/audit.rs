//! The audit trail's tables: records (append-only), the hash chain, seals.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{audit_chain, audit_log, audit_seals, audit_verifications};
use crate::domain::{AuditOutcome, Role};

#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct Record {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub txid: i64,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub query: Option<serde_json::Value>,
    pub result_ids: Option<Vec<Option<Uuid>>>,
    pub outcome: AuditOutcome,
    pub request_id: Option<String>,
    pub source_address: Option<String>,
    pub user_agent: Option<String>,
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct NewRecord {
    pub actor_kind: &'static str,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub action: &'static str,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<Uuid>,
    pub query: Option<serde_json::Value>,
    pub result_ids: Option<Vec<Option<Uuid>>>,
    pub outcome: AuditOutcome,
    pub request_id: Option<String>,
    pub source_address: Option<String>,
    pub user_agent: Option<String>,
    pub purpose: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_seals, check_for_backend(diesel::pg::Pg))]
pub struct Seal {
    pub id: i64,
    pub upto_position: i64,
    pub upto_txid: i64,
    pub upto_seq: i64,
    pub horizon: i64,
    pub hash: Vec<u8>,
    pub signature: Vec<u8>,
    pub key_id: String,
    pub sealed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_seals, check_for_backend(diesel::pg::Pg))]
pub struct NewSeal {
    pub upto_position: i64,
    pub upto_txid: i64,
    pub upto_seq: i64,
    pub horizon: i64,
    pub hash: Vec<u8>,
    pub signature: Vec<u8>,
    pub key_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_chain, check_for_backend(diesel::pg::Pg))]
pub struct Link {
    pub position: i64,
    pub record_seq: i64,
    pub hash: Vec<u8>,
}

pub async fn insert(conn: &mut AsyncPgConnection, record: &NewRecord) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(record)
        .execute(conn)
        .await?;
    Ok(())
}

/// The oldest transaction still running (`pg_snapshot_xmin`): every record
/// of an older one is committed or gone for good.
pub async fn horizon(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Horizon {
        #[diesel(sql_type = BigInt)]
        xmin: i64,
    }
    let row: Horizon =
        diesel::sql_query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin")
            .get_result(conn)
            .await?;
    Ok(row.xmin)
}

/// `(txid, seq) > after`, as a row comparison: PostgreSQL starts each
/// month's `(txid, seq)` index scan there. Spelt `txid > a OR (txid = a AND
/// seq > b)`, the same condition is only a filter, and every round of
/// sealing would read the index from its first entry.
fn after_in_sealing_order(
    after: (i64, i64),
) -> diesel::expression::SqlLiteral<
    diesel::sql_types::Bool,
    impl diesel::query_builder::QueryFragment<diesel::pg::Pg> + diesel::query_builder::QueryId + Send,
> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("(audit_log.txid, audit_log.seq) > (")
        .bind::<BigInt, _>(after.0)
        .sql(", ")
        .bind::<BigInt, _>(after.1)
        .sql(")")
}

/// Records after `after` in sealing order, of transactions older than `horizon`.
pub async fn unsealed(
    conn: &mut AsyncPgConnection,
    after: (i64, i64),
    horizon: i64,
    limit: i64,
) -> QueryResult<Vec<Record>> {
    audit_log::table
        .filter(after_in_sealing_order(after))
        .filter(audit_log::txid.lt(horizon))
        .order((audit_log::txid, audit_log::seq))
        .limit(limit)
        .select(Record::as_select())
        .load(conn)
        .await
}

/// How many records await sealing.
pub async fn count_after(conn: &mut AsyncPgConnection, after: (i64, i64)) -> QueryResult<i64> {
    audit_log::table
        .filter(after_in_sealing_order(after))
        .count()
        .get_result(conn)
        .await
}

pub async fn last_seal(conn: &mut AsyncPgConnection) -> QueryResult<Option<Seal>> {
    audit_seals::table
        .order(audit_seals::id.desc())
        .select(Seal::as_select())
        .first(conn)
        .await
        .optional()
}

/// Up to `limit` seals numbered after `after` and up to `upto`, in order.
pub async fn seals_page(
    conn: &mut AsyncPgConnection,
    after: i64,
    upto: i64,
    limit: i64,
) -> QueryResult<Vec<Seal>> {
    audit_seals::table
        .filter(audit_seals::id.gt(after))
        .filter(audit_seals::id.le(upto))
        .order(audit_seals::id)
        .limit(limit)
        .select(Seal::as_select())
        .load(conn)
        .await
}

pub async fn seal(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Seal>> {
    audit_seals::table
        .find(id)
        .select(Seal::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn add_links(conn: &mut AsyncPgConnection, links: &[Link]) -> QueryResult<()> {
    diesel::insert_into(audit_chain::table)
        .values(links)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn add_seal(conn: &mut AsyncPgConnection, seal: &NewSeal) -> QueryResult<()> {
    diesel::insert_into(audit_seals::table)
        .values(seal)
        .execute(conn)
        .await?;
    Ok(())
}

/// Links after `after`, in chain order, with the records they name (`None`
/// for a record that is gone).
pub async fn links_with_records(
    conn: &mut AsyncPgConnection,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<(Link, Option<Record>)>> {
    let links: Vec<Link> = audit_chain::table
        .filter(audit_chain::position.gt(after))
        .order(audit_chain::position)
        .limit(limit)
        .select(Link::as_select())
        .load(conn)
        .await?;
    let seqs: Vec<i64> = links.iter().map(|l| l.record_seq).collect();
    let (Some(&low), Some(&high)) = (seqs.iter().min(), seqs.iter().max()) else {
        return Ok(vec![]);
    };
    // `seq` does not select a partition: a list of numbers is looked up in
    // every month's index, a range is one short scan in each. Sealing
    // order keeps a batch's numbers nearly consecutive; a batch that
    // spans far more (a transaction that ran long) takes the list.
    let query = audit_log::table.select(Record::as_select()).into_boxed();
    let query = if high - low < 4 * limit {
        query.filter(audit_log::seq.between(low, high))
    } else {
        query.filter(audit_log::seq.eq_any(&seqs))
    };
    let mut records: std::collections::HashMap<i64, Record> = query
        .load(conn)
        .await?
        .into_iter()
        .map(|r| (r.seq, r))
        .collect();
    Ok(links
        .into_iter()
        .map(|link| {
            let record = records.remove(&link.record_seq);
            (link, record)
        })
        .collect())
}

/// The link at `position`.
pub async fn link_at(conn: &mut AsyncPgConnection, position: i64) -> QueryResult<Option<Link>> {
    audit_chain::table
        .find(position)
        .select(Link::as_select())
        .first(conn)
        .await
        .optional()
}

/// The first record numbered after `after_seq`, of a transaction older
/// than `horizon` (so due to have been sealed), that no link names:
/// inserted after the fact.
pub async fn first_unlinked_before(
    conn: &mut AsyncPgConnection,
    horizon: i64,
    after_seq: i64,
) -> QueryResult<Option<i64>> {
    audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .filter(audit_log::txid.lt(horizon))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            audit_chain::table.filter(audit_chain::record_seq.eq(audit_log::seq)),
        )))
        .order(audit_log::seq)
        .select(audit_log::seq)
        .first(conn)
        .await
        .optional()
}

/// The highest number up to which every record after `after_seq` is
/// linked: one before the first record not yet sealed, or the last record.
pub async fn linked_upto(conn: &mut AsyncPgConnection, after_seq: i64) -> QueryResult<i64> {
    let first_unlinked: Option<i64> = audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            audit_chain::table.filter(audit_chain::record_seq.eq(audit_log::seq)),
        )))
        .select(diesel::dsl::min(audit_log::seq))
        .get_result(conn)
        .await?;
    if let Some(seq) = first_unlinked {
        return Ok(seq - 1);
    }
    let last: Option<i64> = audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .select(diesel::dsl::max(audit_log::seq))
        .get_result(conn)
        .await?;
    Ok(last.unwrap_or(after_seq))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_verifications, check_for_backend(diesel::pg::Pg))]
pub struct VerificationRun {
    pub full_check: bool,
    pub from_position: i64,
    pub upto_seal_id: Option<i64>,
    pub upto_position: i64,
    pub linked_upto_seq: i64,
    pub records_checked: i64,
    pub intact: bool,
}

/// The last verification that found the trail intact.
pub async fn last_intact_verification(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Option<VerificationRun>> {
    audit_verifications::table
        .filter(audit_verifications::intact)
        .order(audit_verifications::id.desc())
        .select(VerificationRun::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn add_verification(
    conn: &mut AsyncPgConnection,
    run: &VerificationRun,
) -> QueryResult<()> {
    diesel::insert_into(audit_verifications::table)
        .values(run)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes sure this month's partition of the trail and the next two exist
/// (`parcours_audit_log_prepare_months`); how many it added.
pub async fn prepare_months(conn: &mut AsyncPgConnection) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Added {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        added: i32,
    }
    let row: Added = diesel::sql_query("SELECT parcours_audit_log_prepare_months() AS added")
        .get_result(conn)
        .await?;
    Ok(row.added)
}

/// Filters of `GET /v1/audit`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// A searched term's keyed hash (`PersonalDataKeys::search_term`).
    pub searched: Option<String>,
}

/// Records matching `filter`, oldest first, after `after` (a `seq`).
pub async fn search(
    conn: &mut AsyncPgConnection,
    filter: &Filter,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Record>> {
    let mut query = audit_log::table
        .select(Record::as_select())
        .order(audit_log::seq)
        .limit(limit + 1)
        .into_boxed();
    if let Some(actor) = filter.actor {
        query = query.filter(audit_log::actor_id.eq(actor));
    }
    if let Some(kind) = &filter.resource_type {
        query = query.filter(audit_log::resource_type.eq(kind.clone()));
    }
    if let Some(id) = filter.resource_id {
        query = query.filter(audit_log::resource_id.eq(id));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::occurred_at.lt(to));
    }
    if let Some(term) = &filter.searched {
        // Any of the person search's terms (`api::persons::search`).
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(")
                .bind::<diesel::sql_types::Text, _>(term.clone())
                .sql(
                    " = ANY (ARRAY[query->>'q_ref', query->>'birth_date_ref', \
                     query->>'caf_number_ref', query->>'msa_number_ref']))",
                ),
        );
    }
    if let Some(after) = after {
        query = query.filter(audit_log::seq.gt(after));
    }
    query.load(conn).await
}

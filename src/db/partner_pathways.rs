//! The partners' minimal view of the pathways they follow: domain, status,
//! dates, the following service and their own commitments — nothing else.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::commitments::Commitment;
use crate::db::schema::{commitments, pathways, plans, territories};
use crate::db::scope::{commitments_visible, partner_organization};
use crate::db::views::partner_pathways;
use crate::domain::principal::Principal;
use crate::domain::{Domain, PathwayStatus};

/// The columns a partner may see, the name of the territory's service,
/// and since when the partner follows the pathway.
#[derive(Debug, Clone, Queryable)]
pub struct Followed {
    pub id: Uuid,
    pub domain: Domain,
    pub status: PathwayStatus,
    pub status_since: DateTime<Utc>,
    pub opened_on: NaiveDate,
    /// When the pathway was recorded, to compare with `since` as instants.
    pub opened_at: DateTime<Utc>,
    pub closed_on: Option<NaiveDate>,
    pub service: String,
    pub since: DateTime<Utc>,
}

type Columns = (
    pathways::id,
    pathways::domain,
    pathways::status,
    pathways::status_since,
    pathways::opened_on,
    pathways::created_at,
    pathways::closed_on,
    territories::name,
    partner_pathways::since,
);

const COLUMNS: Columns = (
    pathways::id,
    pathways::domain,
    pathways::status,
    pathways::status_since,
    pathways::opened_on,
    pathways::created_at,
    pathways::closed_on,
    territories::name,
    partner_pathways::since,
);

/// The pathways the caller's organization follows (the SQL view
/// `partner_pathways`); fails closed: a caller who is no partner of an
/// organization follows nothing.
fn followed(
    who: &Principal,
) -> partner_pathways::BoxedQuery<
    'static,
    diesel::pg::Pg,
    (
        diesel::sql_types::Uuid,
        diesel::sql_types::Uuid,
        diesel::sql_types::Timestamptz,
    ),
> {
    let query = partner_pathways::table.into_boxed();
    match partner_organization(who) {
        Some(organization) => query.filter(partner_pathways::organization_id.eq(organization)),
        None => query.filter(sql::<Bool>("FALSE")),
    }
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Followed>> {
    let mut query = followed(who)
        .inner_join(pathways::table.inner_join(territories::table))
        .select(COLUMNS)
        .order(pathways::id);
    if let Some(after) = page.after {
        query = query.filter(pathways::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: &NewRecord,
) -> QueryResult<Option<Followed>> {
    followed(who)
        .inner_join(pathways::table.inner_join(territories::table))
        .filter(pathways::id.eq(id))
        .select(COLUMNS)
        .audited_one(record)
        .get_result(conn)
        .await
        .optional()
}

/// The caller's own commitments in these pathways, with their pathway.
pub async fn commitments_in(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    pathway_ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Commitment)>> {
    let plans_of: Vec<(Uuid, Uuid)> = plans::table
        .filter(plans::pathway_id.eq_any(pathway_ids))
        .select((plans::id, plans::pathway_id))
        .load(conn)
        .await?;
    let own: Vec<Commitment> = commitments::table
        .filter(commitments::plan_id.eq_any(plans_of.iter().map(|(plan, _)| *plan)))
        .filter(commitments_visible(who))
        .select(Commitment::as_select())
        .order(commitments::id)
        .load(conn)
        .await?;
    Ok(own
        .into_iter()
        .filter_map(|c| {
            let pathway = plans_of.iter().find(|(plan, _)| *plan == c.plan_id)?.1;
            Some((pathway, c))
        })
        .collect())
}

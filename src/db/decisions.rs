//! Orientation decisions of a pathway.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::schema::decisions;
use crate::domain::{DecisionAuthority, DecisionKind, Qualification};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = decisions, check_for_backend(diesel::pg::Pg))]
pub struct Decision {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub authority: DecisionAuthority,
    pub qualification: Qualification,
    pub label: String,
    pub finess: Option<String>,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub implemented_on: Option<NaiveDate>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub kind: DecisionKind,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = decisions, check_for_backend(diesel::pg::Pg))]
pub struct NewDecision {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub authority: DecisionAuthority,
    pub qualification: Qualification,
    pub label: String,
    pub finess: Option<String>,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub implemented_on: Option<NaiveDate>,
    pub recorded_by: Option<Uuid>,
    pub kind: DecisionKind,
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewDecision) -> QueryResult<Decision> {
    diesel::insert_into(decisions::table)
        .values(new)
        .returning(Decision::as_returning())
        .get_result(tx.conn())
        .await
}

/// Decisions of a pathway the caller was shown to see, in id order.
pub async fn of_pathway(
    conn: &mut AsyncPgConnection,
    pathway: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Decision>> {
    let mut query = decisions::table
        .filter(decisions::pathway_id.eq(pathway))
        .select(Decision::as_select())
        .order(decisions::id)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(decisions::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

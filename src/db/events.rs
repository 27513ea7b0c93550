//! The timeline: append-only events of a pathway, written in the
//! transaction of the change they record.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Tx;
use crate::db::schema::pathway_events;
use crate::domain::EventKind;
use crate::domain::events::EventData;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pathway_events, check_for_backend(diesel::pg::Pg))]
pub struct Event {
    pub seq: i64,
    /// `None` only for a declined referral, which opened no pathway.
    pub pathway_id: Option<Uuid>,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub data: serde_json::Value,
}

/// Records `data` in the timeline of `pathway`; its kind follows from it.
pub async fn record(
    tx: &mut Tx<'_>,
    pathway: Uuid,
    actor: Uuid,
    data: EventData,
) -> QueryResult<()> {
    insert(tx, Some(pathway), actor, data).await
}

/// An event of no pathway: a declined referral, for its partner's feed.
pub async fn record_unattached(tx: &mut Tx<'_>, actor: Uuid, data: EventData) -> QueryResult<()> {
    insert(tx, None, actor, data).await
}

async fn insert(
    tx: &mut Tx<'_>,
    pathway: Option<Uuid>,
    actor: Uuid,
    data: EventData,
) -> QueryResult<()> {
    diesel::insert_into(pathway_events::table)
        .values((
            pathway_events::pathway_id.eq(pathway),
            pathway_events::kind.eq(data.kind()),
            pathway_events::actor_id.eq(actor),
            pathway_events::data.eq(data.to_json()),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Events of one pathway after `after` (a sequence number), oldest first;
/// `limit + 1` rows so that the caller knows if more follow.
pub async fn of_pathway(
    conn: &mut AsyncPgConnection,
    pathway: Uuid,
    after: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    let mut query = pathway_events::table
        .filter(pathway_events::pathway_id.eq(pathway))
        .select(Event::as_select())
        .order(pathway_events::seq)
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(pathway_events::seq.gt(after));
    }
    query.load(conn).await
}

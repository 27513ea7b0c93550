//! Notes of a pathway: `team` ones for the pathway's professionals,
//! `restricted` ones for their author and supervisors.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::schema::notes;
use crate::domain::NoteVisibility;
use crate::domain::policy::{NoteReach, note_reach};
use crate::domain::principal::Principal;

/// A row of `notes` as stored, its text included (what the API shows of it
/// is `NoteView`; the right of access hands it over as it is).
#[derive(
    Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = notes, check_for_backend(diesel::pg::Pg))]
#[serde(deny_unknown_fields)]
#[schema(as = NoteRecord)]
pub struct Note {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub author_id: Uuid,
    pub visibility: NoteVisibility,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(
    tx: &mut Tx<'_>,
    pathway: Uuid,
    author: Uuid,
    visibility: NoteVisibility,
    body: &str,
) -> QueryResult<Note> {
    diesel::insert_into(notes::table)
        .values((
            notes::id.eq(Uuid::now_v7()),
            notes::pathway_id.eq(pathway),
            notes::author_id.eq(author),
            notes::visibility.eq(visibility),
            notes::body.eq(body),
        ))
        .returning(Note::as_returning())
        .get_result(tx.conn())
        .await
}

/// The notes of a pathway the caller may read: every `team` note; the
/// `restricted` ones only for their author and for supervisors.
pub async fn readable(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    pathway: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Note>> {
    let mut query = notes::table
        .filter(notes::pathway_id.eq(pathway))
        .select(Note::as_select())
        .order(notes::id)
        .into_boxed();
    query = match note_reach(who) {
        NoteReach::All => query,
        NoteReach::TeamAndOwn(me) => query.filter(
            notes::visibility
                .eq(NoteVisibility::Team)
                .or(notes::author_id.eq(me)),
        ),
        NoteReach::Nothing => query.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("FALSE")),
    };
    if let Some(after) = page.after {
        query = query.filter(notes::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

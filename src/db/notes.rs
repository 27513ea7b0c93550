//! Notes of a pathway: `team` ones for the pathway's professionals,
//! `restricted` ones for their author and supervisors.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::schema::notes;
use crate::db::{PageRequest, events, pathways};
use crate::domain::NoteVisibility;
use crate::domain::events::{self as event, EventData};
use crate::domain::policy::{NoteReach, note_reach};
use crate::domain::principal::Principal;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notes, check_for_backend(diesel::pg::Pg))]
pub struct Note {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub author_id: Uuid,
    pub visibility: NoteVisibility,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn add(
    tx: &mut Tx<'_>,
    who: &Principal,
    pathway: Uuid,
    visibility: NoteVisibility,
    body: &str,
) -> Result<Note, Error> {
    pathways::lock_open_for_child(tx, who, pathway).await?;
    let note: Note = diesel::insert_into(notes::table)
        .values((
            notes::id.eq(Uuid::now_v7()),
            notes::pathway_id.eq(pathway),
            notes::author_id.eq(who.subject.id()),
            notes::visibility.eq(visibility),
            notes::body.eq(body),
        ))
        .returning(Note::as_returning())
        .get_result(tx.conn())
        .await?;
    // The event names the note, never its text.
    events::record(
        tx,
        pathway,
        who.subject.id(),
        EventData::NoteAdded(event::NoteAdded {
            note_id: note.id,
            visibility: note.visibility,
        }),
    )
    .await?;
    Ok(note)
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

//! What staff record under an open pathway of their scope: a decision of
//! an authority, a note. (Meetings are [`crate::services::meetings`].)

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::decisions::{self, Decision, NewDecision};
use crate::db::notes::{self, Note};
use crate::db::{Error, events};
use crate::domain::NoteVisibility;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::events::{self as event, EventData};
use crate::services::change::Change;
use crate::services::pathways::lock_open_for_child;

pub async fn record_decision(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewDecision,
) -> Result<Decision, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Decision)
        .run(
            conn,
            async |tx| {
                lock_open_for_child(tx, by.who, new.pathway_id).await?;
                let decision = decisions::insert(tx, new).await?;
                let data = EventData::DecisionRecorded(event::DecisionRecorded {
                    decision_id: decision.id,
                    kind: decision.kind,
                    authority: decision.authority,
                    qualification: decision.qualification,
                    decided_on: decision.decided_on,
                    valid_until: decision.valid_until,
                });
                events::record(tx, new.pathway_id, by.who.subject.id(), data).await?;
                Ok::<_, Error>(decision)
            },
            |decision| decision.id,
        )
        .await
}

/// A note, visible as `visibility` says ([`crate::domain::policy::reads_note`]).
pub async fn add_note(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    pathway: Uuid,
    visibility: NoteVisibility,
    body: &str,
) -> Result<Note, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Note)
        .run(
            conn,
            async |tx| {
                lock_open_for_child(tx, by.who, pathway).await?;
                let author = by.who.subject.id();
                let note = notes::insert(tx, pathway, author, visibility, body).await?;
                // The event names the note, never its text.
                let data = EventData::NoteAdded(event::NoteAdded {
                    note_id: note.id,
                    visibility: note.visibility,
                });
                events::record(tx, pathway, author, data).await?;
                Ok::<_, Error>(note)
            },
            |note| note.id,
        )
        .await
}

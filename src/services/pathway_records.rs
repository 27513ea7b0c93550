//! What staff record under an open pathway of their scope: a decision of
//! an authority, a GOS meeting (convened, then held or called off), a note.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::Error;
use crate::db::decisions::{self, Decision, NewDecision};
use crate::db::meetings::{self, MeetingWithParticipants, Move, NewMeeting};
use crate::db::notes::{self, Note};
use crate::domain::NoteVisibility;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::services::change::Change;

pub async fn record_decision(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewDecision,
) -> Result<Decision, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Decision)
        .run(
            conn,
            async |conn| decisions::record(conn, by.who, new).await,
            |decision| decision.id,
        )
        .await
}

pub async fn record_meeting(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewMeeting,
) -> Result<MeetingWithParticipants, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Meeting)
        .run(
            conn,
            async |conn| meetings::record(conn, by.who, new).await,
            |meeting| meeting.meeting.id,
        )
        .await
}

/// Holds or calls off the convened meeting `id`, read at `version`.
pub async fn move_meeting(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &Move,
) -> Result<MeetingWithParticipants, Error> {
    Change::new(by, AuditAction::Transition, AuditTarget::Meeting)
        .of(id)
        .run(
            conn,
            async |conn| meetings::advance(conn, by.who, id, version, change).await,
            |meeting| meeting.meeting.id,
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
            async |conn| notes::add(conn, by.who, pathway, visibility, body).await,
            |note| note.id,
        )
        .await
}

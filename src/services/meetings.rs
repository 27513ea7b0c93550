//! GOS meetings (groupe opérationnel de synthèse) of an open pathway in
//! scope: convened for a time with their invitees (the invited
//! organizations then follow the pathway and receive the invitation in
//! their feed), then held with their outcome or called off; or recorded
//! once held. The moves are [`crate::domain::meeting`]'s.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::meetings::{self, Meeting, MeetingWithParticipants, NewMeetingRow};
use crate::db::versioned::at_version;
use crate::db::{Error, events};
use crate::domain::MeetingStatus;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::events::{self as event, EventData};
use crate::domain::meeting;
use crate::services::change::Change;
use crate::services::pathways::lock_open_for_child;

/// When a new meeting is: convened for a time, or already held.
#[derive(Debug, Clone)]
pub enum When {
    Planned(DateTime<Utc>),
    Held { on: NaiveDate, outcome: String },
}

pub struct NewMeeting {
    pub pathway_id: Uuid,
    pub when: When,
    pub person_agreed: bool,
    pub plan_id: Option<Uuid>,
    pub organizations: Vec<Uuid>,
    pub users: Vec<Uuid>,
}

/// A move of a convened meeting.
#[derive(Debug, Clone)]
pub enum Move {
    /// Held, with who took part when they differ from the invitees.
    Hold {
        on: NaiveDate,
        outcome: String,
        person_agreed: bool,
        organizations: Option<Vec<Uuid>>,
        users: Option<Vec<Uuid>>,
    },
    Cancel(String),
}

impl Move {
    fn to(&self) -> MeetingStatus {
        match self {
            Move::Hold { .. } => MeetingStatus::Held,
            Move::Cancel(_) => MeetingStatus::Cancelled,
        }
    }
}

/// Convenes, or records as held, a meeting of an open pathway in scope,
/// with its participants and its event.
pub async fn record(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: &NewMeeting,
) -> Result<MeetingWithParticipants, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Meeting)
        .run(
            conn,
            async |tx| {
                lock_open_for_child(tx, by.who, new.pathway_id).await?;
                let (status, planned_at, held_on, outcome) = match &new.when {
                    When::Planned(at) => (MeetingStatus::Planned, Some(*at), None, None),
                    When::Held { on, outcome } => {
                        (MeetingStatus::Held, None, Some(*on), Some(outcome.as_str()))
                    }
                };
                let row = NewMeetingRow {
                    id: Uuid::now_v7(),
                    pathway_id: new.pathway_id,
                    status,
                    planned_at,
                    plan_id: new.plan_id,
                    held_on,
                    person_agreed: new.person_agreed,
                    outcome,
                    recorded_by: by.who.subject.id(),
                };
                let meeting = meetings::insert(tx, &row).await?;
                meetings::set_participants(tx, meeting.id, &new.organizations, &new.users).await?;
                let data = match &new.when {
                    When::Planned(at) => EventData::MeetingPlanned(event::MeetingPlanned {
                        meeting_id: meeting.id,
                        // As stored (PostgreSQL keeps microseconds).
                        planned_at: meeting.planned_at.unwrap_or(*at),
                        organization_ids: new.organizations.clone(),
                        plan_id: meeting.plan_id,
                    }),
                    When::Held { on, .. } => held(&meeting, *on, &new.organizations),
                };
                events::record(tx, new.pathway_id, by.who.subject.id(), data).await?;
                Ok::<_, Error>(MeetingWithParticipants {
                    meeting,
                    organizations: new.organizations.clone(),
                    users: new.users.clone(),
                })
            },
            |meeting| meeting.meeting.id,
        )
        .await
}

/// Holds or calls off the convened meeting `id`, read at `version`, with
/// its event.
pub async fn advance(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &Move,
) -> Result<MeetingWithParticipants, Error> {
    let who = by.who;
    Change::new(by, AuditAction::Transition, AuditTarget::Meeting)
        .of(id)
        .run(
            conn,
            async |tx| {
                let locked = meetings::lock_in_scope(tx, who, id).await?;
                let current =
                    at_version(locked, version).map_err(|e| e.refused(meetings::not_found))?;
                // Held: a record of the pathway, which must be open; called
                // off: also once the pathway closed, so that no GOS stays
                // planned forever.
                if matches!(change, Move::Hold { .. }) {
                    lock_open_for_child(tx, who, current.pathway_id).await?;
                }
                let to = change.to();
                let allowed = meeting::allowed_next(current.status);
                Error::unless_allowed("meeting", &current.status, &to, allowed)?;
                let (invited, invited_users) = meetings::participants(tx, &current).await?;
                match change {
                    Move::Hold {
                        on,
                        outcome,
                        person_agreed,
                        organizations,
                        users,
                    } => {
                        let actor = who.subject.id();
                        let updated =
                            meetings::hold(tx, id, version, *on, outcome, *person_agreed, actor)
                                .await?;
                        let organizations = organizations.clone().unwrap_or(invited);
                        let users = users.clone().unwrap_or(invited_users);
                        meetings::set_participants(tx, id, &organizations, &users).await?;
                        let data = held(&updated, *on, &organizations);
                        events::record(tx, updated.pathway_id, actor, data).await?;
                        Ok(MeetingWithParticipants {
                            meeting: updated,
                            organizations,
                            users,
                        })
                    }
                    Move::Cancel(reason) => {
                        let updated = meetings::cancel(tx, id, version, reason).await?;
                        let data = EventData::MeetingCancelled(event::MeetingCancelled {
                            meeting_id: id,
                            organization_ids: invited.clone(),
                        });
                        events::record(tx, updated.pathway_id, who.subject.id(), data).await?;
                        Ok(MeetingWithParticipants {
                            meeting: updated,
                            organizations: invited,
                            users: invited_users,
                        })
                    }
                }
            },
            |meeting| meeting.meeting.id,
        )
        .await
}

fn held(meeting: &Meeting, on: NaiveDate, organizations: &[Uuid]) -> EventData {
    EventData::MeetingHeld(event::MeetingHeld {
        meeting_id: meeting.id,
        held_on: on,
        person_agreed: meeting.person_agreed,
        organization_ids: organizations.to_vec(),
    })
}

//! What each event of a timeline records: one payload type per
//! [`EventKind`], so that an event's kind and its data cannot disagree, and
//! the document gives each kind its own schema (`EventView` is a `oneOf`
//! discriminated by `kind`). A new kind without a payload does not compile.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{
    ClosureReason, CommitmentRefusalReason, CommitmentStatus, ConsentBy, ContinuationReason,
    DecisionAuthority, DecisionKind, Domain, EscalationClosure, EscalationLevel, EscalationStatus,
    EventKind, NoteVisibility, PathwayStatus, PlanEndReason, PlanKind, PlanStatus, Qualification,
    ReferralDeclineReason,
};

/// `pathway_opened`: the pathway as it was opened.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayOpened {
    pub domain: Domain,
    /// Always `referred`.
    pub status: PathwayStatus,
    pub opened_on: NaiveDate,
    /// The referent, when one was named at opening.
    pub referent_id: Option<Uuid>,
    /// Why it was opened, when said.
    pub reason: Option<String>,
    /// The pathway of the person it continues, when it continues one
    /// (absent otherwise, and from events written before continuations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues_from: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_reason: Option<ContinuationReason>,
}

/// `pathway_continued`: another pathway of the person continues this one
/// (it was opened with `continues_from` naming this one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayContinued {
    /// The pathway that continues this one.
    pub pathway_id: Uuid,
    /// Its domain (the same one, or another).
    pub domain: Domain,
    pub opened_on: NaiveDate,
    pub reason: ContinuationReason,
}

/// `status_changed`: a move of the pathway's state machine.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChanged {
    pub from: PathwayStatus,
    pub to: PathwayStatus,
    pub reason: String,
    /// Set when `to` is `closed`.
    pub closure_reason: Option<ClosureReason>,
}

/// `referent_assigned`: another staff member follows the pathway.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferentAssigned {
    /// The previous referent; `null` when there was none.
    pub from: Option<Uuid>,
    pub to: Uuid,
}

/// `pathway_updated`: reserved; this version records a pathway's changes
/// as `referent_assigned`, `status_changed` or `critical_*` events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayUpdated {}

/// `critical_set`: flagged, or escalated, as a critical situation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriticalSet {
    pub level: EscalationLevel,
    /// `null` when it was not critical before.
    pub previous_level: Option<EscalationLevel>,
    pub reason: String,
}

/// `critical_cleared`: no longer a critical situation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriticalCleared {
    pub previous_level: Option<EscalationLevel>,
    pub reason: String,
}

/// `decision_recorded`: an authority's decision (its text is in the
/// decision, not in the event).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecorded {
    pub decision_id: Uuid,
    /// Absent from events recorded before decisions had kinds: orientations.
    #[serde(default)]
    pub kind: DecisionKind,
    pub authority: DecisionAuthority,
    pub qualification: Qualification,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// `plan_created`: a support plan was started.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCreated {
    pub plan_id: Uuid,
    pub kind: PlanKind,
    pub coordinator_id: Uuid,
}

/// `plan_updated`: what changed among the plan's coordinator and review
/// date (`null`: unchanged; the objectives' text is never in the event).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanUpdated {
    pub plan_id: Uuid,
    pub coordinator_id: Option<Uuid>,
    pub review_due: Option<NaiveDate>,
}

/// `plan_status_changed`: a move of the plan's state machine, with the
/// plan's consent, review date and end reason after it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanStatusChanged {
    pub plan_id: Uuid,
    pub from: PlanStatus,
    pub to: PlanStatus,
    pub consent_by: Option<ConsentBy>,
    pub review_due: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
}

/// `commitment_added`: an organization committed to a plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentAdded {
    pub plan_id: Uuid,
    pub commitment_id: Uuid,
    pub organization_id: Uuid,
    pub due_on: Option<NaiveDate>,
}

/// `commitment_updated`: a commitment changed (`from` and `to` are equal
/// when only its other fields did).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentUpdated {
    pub plan_id: Uuid,
    pub commitment_id: Uuid,
    pub organization_id: Uuid,
    pub from: CommitmentStatus,
    pub to: CommitmentStatus,
    /// When refused: why (absent from earlier events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<CommitmentRefusalReason>,
    /// Present when staff recorded the organization's answer on its
    /// behalf (received by phone, letter…); the actor is then that staff
    /// member, not the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<crate::domain::commitment::OnBehalf>,
}

/// `meeting_held`: a GOS meeting, with the organizations present.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingHeld {
    pub meeting_id: Uuid,
    pub held_on: NaiveDate,
    pub person_agreed: bool,
    pub organization_ids: Vec<Uuid>,
}

/// `meeting_planned`: a GOS was convened for `planned_at`, with the
/// organizations invited (they receive it in their feed), the person having
/// agreed beforehand; `plan_id`: the plan it is to build, if named.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingPlanned {
    pub meeting_id: Uuid,
    pub planned_at: DateTime<Utc>,
    pub organization_ids: Vec<Uuid>,
    pub plan_id: Option<Uuid>,
}

/// `meeting_cancelled`: a GOS convened was called off (why is in the
/// meeting, never in the event).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCancelled {
    pub meeting_id: Uuid,
    /// The organizations that had been invited.
    pub organization_ids: Vec<Uuid>,
}

/// `note_added`: a note was written (its text is never in the event).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteAdded {
    pub note_id: Uuid,
    pub visibility: NoteVisibility,
}

/// `referral_received`: written before referrals were triaged (a referral
/// now waits in its territory's queue, then is accepted or declined); no
/// longer recorded, and kept in older timelines.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralReceived {
    pub referral_id: Uuid,
    pub organization_id: Uuid,
    pub pathway_opened: bool,
}

/// `referral_accepted`: the département accepted a partner's referral into
/// this pathway.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralAccepted {
    pub referral_id: Uuid,
    /// The referring partner's organization.
    pub organization_id: Uuid,
    pub domain: Domain,
    /// Whether accepting it opened the pathway (or joined one open).
    pub pathway_opened: bool,
    /// The person matched carries another number at this partner.
    pub partner_number_differs: bool,
}

/// `referral_declined`: the département declined a partner's referral; it
/// belongs to no pathway, and reaches only the partner's feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralDeclined {
    pub referral_id: Uuid,
    pub organization_id: Uuid,
    pub domain: Domain,
    pub decline_reason: ReferralDeclineReason,
}

/// `facility_notified`: an orientation was addressed to a facility (an
/// organization with a FINESS), which follows the pathway from then on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityNotified {
    pub follow_up_id: Uuid,
    pub decision_id: Uuid,
    pub organization_id: Uuid,
    pub finess: String,
}

/// `facility_status_changed`: where the person stands in that facility, as
/// codes of TRE_R357 (status) and TRE_R358 (reason); `from` is absent for
/// the first status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityStatusChanged {
    pub follow_up_id: Uuid,
    pub decision_id: Uuid,
    pub organization_id: Uuid,
    pub from: Option<String>,
    pub to: String,
    pub reason: Option<String>,
    pub status_on: NaiveDate,
}

/// `plan_version_consented`: the person (or representative) agreed to
/// version `number` of a plan already in force (what changed is in the
/// plan's versions, never in the event).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanVersionConsented {
    pub plan_id: Uuid,
    pub number: i32,
    pub consent_by: ConsentBy,
    pub consented_on: NaiveDate,
}

/// `escalation_sent`: the critical situation was escalated to an
/// organization, which follows the pathway from then on. The summary sent
/// is in the escalation, never in the event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationSent {
    pub escalation_id: Uuid,
    pub organization_id: Uuid,
    pub level: EscalationLevel,
    /// The answer is due by this day.
    pub due_on: NaiveDate,
}

/// `escalation_status_changed`: the recipient acknowledged or answered,
/// or the département closed it (with `closure`). The answer is in the
/// escalation, never in the event.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStatusChanged {
    pub escalation_id: Uuid,
    pub organization_id: Uuid,
    pub from: EscalationStatus,
    pub to: EscalationStatus,
    pub closure: Option<EscalationClosure>,
}

/// One variant per kind, named as its payload type.
macro_rules! event_data {
    ($($kind:ident),* $(,)?) => {
        /// What an event records; its kind follows from it.
        #[derive(Debug, Clone)]
        pub enum EventData {
            $($kind($kind),)*
        }

        impl EventData {
            pub fn kind(&self) -> EventKind {
                match self {
                    $(Self::$kind(_) => EventKind::$kind,)*
                }
            }

            /// The payload as stored (`pathway_events.data`) and served.
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(Self::$kind(data) => serde_json::to_value(data),)*
                };
                // Plain structs of strings, numbers and ids: always serializable.
                value.unwrap_or_default()
            }

            /// Reads a stored payload as its kind's type.
            pub fn parse(kind: EventKind, data: serde_json::Value) -> serde_json::Result<Self> {
                Ok(match kind {
                    $(EventKind::$kind => Self::$kind(serde_json::from_value(data)?),)*
                })
            }

            /// Each kind and the name of its payload's schema.
            pub fn schema_names() -> Vec<(EventKind, String)> {
                vec![$((EventKind::$kind, <$kind as ToSchema>::name().into_owned()),)*]
            }

            /// The payloads' schemas, for the document's components.
            pub fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                $(
                    schemas.push((
                        <$kind as ToSchema>::name().into_owned(),
                        <$kind as utoipa::PartialSchema>::schema(),
                    ));
                    <$kind as ToSchema>::schemas(schemas);
                )*
            }
        }
    };
}

event_data! {
    PathwayOpened,
    StatusChanged,
    ReferentAssigned,
    PathwayUpdated,
    CriticalSet,
    CriticalCleared,
    DecisionRecorded,
    PlanCreated,
    PlanUpdated,
    PlanStatusChanged,
    CommitmentAdded,
    CommitmentUpdated,
    MeetingHeld,
    NoteAdded,
    ReferralReceived,
    ReferralAccepted,
    ReferralDeclined,
    FacilityNotified,
    FacilityStatusChanged,
    PlanVersionConsented,
    PathwayContinued,
    EscalationSent,
    EscalationStatusChanged,
    MeetingPlanned,
    MeetingCancelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_payload_and_a_payload_reads_back_as_its_kind() {
        let names = EventData::schema_names();
        assert_eq!(names.len(), EventKind::VALUES.len());
        let data = EventData::NoteAdded(NoteAdded {
            note_id: Uuid::nil(),
            visibility: NoteVisibility::Team,
        });
        assert_eq!(data.kind(), EventKind::NoteAdded);
        let back = EventData::parse(EventKind::NoteAdded, data.to_json()).unwrap();
        assert_eq!(back.kind(), EventKind::NoteAdded);
        // Another kind's payload, or a member too many, is not this kind's.
        assert!(EventData::parse(EventKind::PlanCreated, data.to_json()).is_err());
        let mut extra = data.to_json();
        extra["text"] = "secret".into();
        assert!(EventData::parse(EventKind::NoteAdded, extra).is_err());
    }
}

//! What a partner may know of the events of the pathways it follows: the
//! one projection the feed (`GET /v1/feed`) and the webhook sender share,
//! so that a webhook says exactly what the feed says.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::feed::FeedRow;
use crate::domain::facility_status::{self, Coding};
use crate::domain::{
    AnswerChannel, CommitmentStatus, Domain, EscalationStatus, EventKind, PathwayStatus,
    ReferralDeclineReason,
};

closed_set! {
    /// Where a followed pathway stands, in the terms partners may know.
    pub enum FollowedStatus {
        /// Referred, being assessed or oriented.
        InProgress => "in_progress",
        /// Oriented, but no solution is in place yet.
        WithoutSolution => "without_solution",
        /// A solution is in place.
        Supported => "supported",
        /// The pathway is closed.
        Closed => "closed",
    }
}

/// A pathway status as partners see it.
pub fn coarse(status: PathwayStatus) -> FollowedStatus {
    match status {
        PathwayStatus::Referred | PathwayStatus::Assessment | PathwayStatus::Orientation => {
            FollowedStatus::InProgress
        }
        PathwayStatus::WithoutSolution => FollowedStatus::WithoutSolution,
        PathwayStatus::Supported => FollowedStatus::Supported,
        PathwayStatus::Closed => FollowedStatus::Closed,
    }
}

closed_set! {
    /// What happened, in the terms a partner may know.
    pub enum FeedEventKind {
        /// The pathway was opened.
        PathwayOpened => "pathway_opened",
        /// Its status changed (see `status`).
        StatusChanged => "status_changed",
        /// A commitment in its plan was proposed to your organization:
        /// answer it (`accepted`, or `refused` with a reason).
        CommitmentAdded => "commitment_added",
        /// One of your organization's commitments changed status.
        CommitmentUpdated => "commitment_updated",
        /// Your organization referred the person for it (before triage).
        ReferralReceived => "referral_received",
        /// The département accepted your referral (`referral_id`) into this
        /// pathway: you follow it from this event on.
        ReferralAccepted => "referral_accepted",
        /// The département declined your referral (`referral_id`) for
        /// `decline_reason`; no pathway (`pathway_id` is absent).
        ReferralDeclined => "referral_declined",
        /// An orientation was addressed to your organization, a facility
        /// (`follow_up_id`): you follow the pathway from this event on.
        FacilityNotified => "facility_notified",
        /// Where the person stands in your facility moved to
        /// `facility_status` (`follow_up_id`).
        FacilityStatusChanged => "facility_status_changed",
        /// A critical situation was escalated to your organization
        /// (`escalation_id`, `GET /v1/escalations/{id}`): you follow the
        /// pathway from this event on.
        EscalationSent => "escalation_sent",
        /// An escalation sent to you moved to `escalation_status`.
        EscalationStatusChanged => "escalation_status_changed",
        /// You are invited to a GOS about the pathway (`meeting_id`) at
        /// `meeting_planned_at`: you follow the pathway from this event on.
        MeetingPlanned => "meeting_planned",
        /// A GOS you were invited to or took part in was held (its outcome
        /// stays with the département).
        MeetingHeld => "meeting_held",
        /// A GOS you were invited to was called off.
        MeetingCancelled => "meeting_cancelled",
    }
}

impl FeedEventKind {
    /// The timeline events partners may know of (the rest is the
    /// département's own business). Every kind is named: a new one does
    /// not compile until it says whether partners hear of it.
    pub fn of(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::PathwayOpened => Some(Self::PathwayOpened),
            EventKind::StatusChanged => Some(Self::StatusChanged),
            EventKind::CommitmentAdded => Some(Self::CommitmentAdded),
            EventKind::CommitmentUpdated => Some(Self::CommitmentUpdated),
            EventKind::ReferralReceived => Some(Self::ReferralReceived),
            EventKind::ReferralAccepted => Some(Self::ReferralAccepted),
            EventKind::ReferralDeclined => Some(Self::ReferralDeclined),
            EventKind::FacilityNotified => Some(Self::FacilityNotified),
            EventKind::FacilityStatusChanged => Some(Self::FacilityStatusChanged),
            EventKind::EscalationSent => Some(Self::EscalationSent),
            EventKind::EscalationStatusChanged => Some(Self::EscalationStatusChanged),
            EventKind::MeetingPlanned => Some(Self::MeetingPlanned),
            EventKind::MeetingHeld => Some(Self::MeetingHeld),
            EventKind::MeetingCancelled => Some(Self::MeetingCancelled),
            EventKind::ReferentAssigned
            | EventKind::PathwayUpdated
            | EventKind::CriticalSet
            | EventKind::CriticalCleared
            | EventKind::DecisionRecorded
            | EventKind::PlanCreated
            | EventKind::PlanUpdated
            | EventKind::PlanStatusChanged
            | EventKind::NoteAdded
            | EventKind::PlanVersionConsented
            | EventKind::PathwayContinued => None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEvent {
    /// Resume after this event with `?after=<cursor>`.
    pub cursor: String,
    /// Absent for `referral_declined` only.
    pub pathway_id: Option<Uuid>,
    pub domain: Domain,
    pub kind: FeedEventKind,
    pub occurred_at: DateTime<Utc>,
    /// The pathway's status after the event, in coarse terms
    /// (`pathway_opened`, `status_changed`).
    pub status: Option<FollowedStatus>,
    /// For commitment events: which one, and its status.
    pub commitment_id: Option<Uuid>,
    pub commitment_status: Option<CommitmentStatus>,
    /// For `commitment_updated`: present when the département recorded
    /// your organization's answer on its behalf, having received it this
    /// way (by phone, by letter…) rather than through the API.
    pub answer_received_via: Option<AnswerChannel>,
    /// For referral events: your referral.
    pub referral_id: Option<Uuid>,
    /// For `referral_declined`: why.
    pub decline_reason: Option<ReferralDeclineReason>,
    /// For facility events: the follow-up (`GET /v1/facility-follow-ups/{id}`).
    pub follow_up_id: Option<Uuid>,
    /// For `facility_status_changed`: the new status (TRE_R357).
    pub facility_status: Option<Coding>,
    /// For escalation events: which one (`GET /v1/escalations/{id}`).
    pub escalation_id: Option<Uuid>,
    /// For escalation events: where it stands after the event.
    pub escalation_status: Option<EscalationStatus>,
    /// For meeting events: the GOS.
    pub meeting_id: Option<Uuid>,
    /// For `meeting_planned`: when it is to be held.
    pub meeting_planned_at: Option<DateTime<Utc>>,
}

/// The body of each webhook request (Standard Webhooks' envelope).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPayload {
    /// The event's kind, as in `data.kind`.
    #[serde(rename = "type")]
    pub kind: FeedEventKind,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// The event, exactly as the feed gives it (its `cursor` resumes the feed).
    pub data: FeedEvent,
}

pub fn encode(txid: i64, seq: i64) -> String {
    let mut bytes = txid.to_be_bytes().to_vec();
    bytes.extend(seq.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(cursor: &str) -> Option<(i64, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let txid: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let seq: [u8; 8] = bytes.get(8..)?.try_into().ok()?;
    Some((i64::from_be_bytes(txid), i64::from_be_bytes(seq)))
}

fn uuid_at(data: &serde_json::Value, key: &str) -> Option<Uuid> {
    data.get(key)?.as_str()?.parse().ok()
}

/// An event in the terms a partner may know; `None` for the others.
pub fn event_view(row: FeedRow) -> Option<FeedEvent> {
    let status_at = |key: &str| -> Option<FollowedStatus> {
        serde_json::from_value::<PathwayStatus>(row.data.get(key)?.clone())
            .ok()
            .map(coarse)
    };
    let kind = FeedEventKind::of(row.kind)?;
    // What each kind says of where things stand: every kind is named.
    let (status, commitment_status, escalation_status) = match kind {
        FeedEventKind::PathwayOpened => (Some(FollowedStatus::InProgress), None, None),
        FeedEventKind::StatusChanged => (status_at("to"), None, None),
        FeedEventKind::CommitmentAdded => (None, Some(CommitmentStatus::Proposed), None),
        FeedEventKind::CommitmentUpdated => (
            None,
            serde_json::from_value(row.data.get("to")?.clone()).ok(),
            None,
        ),
        FeedEventKind::EscalationSent => (None, None, Some(EscalationStatus::Sent)),
        FeedEventKind::EscalationStatusChanged => (
            None,
            None,
            serde_json::from_value(row.data.get("to")?.clone()).ok(),
        ),
        FeedEventKind::ReferralReceived
        | FeedEventKind::ReferralAccepted
        | FeedEventKind::ReferralDeclined
        | FeedEventKind::FacilityNotified
        | FeedEventKind::FacilityStatusChanged
        | FeedEventKind::MeetingPlanned
        | FeedEventKind::MeetingHeld
        | FeedEventKind::MeetingCancelled => (None, None, None),
    };
    Some(FeedEvent {
        cursor: encode(row.txid, row.seq),
        pathway_id: row.pathway_id,
        domain: row.domain,
        kind,
        occurred_at: row.occurred_at,
        status,
        commitment_id: uuid_at(&row.data, "commitment_id"),
        commitment_status,
        answer_received_via: row
            .data
            .get("on_behalf_of")
            .and_then(|on_behalf| on_behalf.get("received_via"))
            .and_then(|via| serde_json::from_value(via.clone()).ok()),
        referral_id: uuid_at(&row.data, "referral_id"),
        decline_reason: row
            .data
            .get("decline_reason")
            .and_then(|reason| serde_json::from_value(reason.clone()).ok()),
        follow_up_id: uuid_at(&row.data, "follow_up_id"),
        facility_status: (kind == FeedEventKind::FacilityStatusChanged)
            .then(|| {
                row.data
                    .get("to")?
                    .as_str()
                    .map(facility_status::status_coding)
            })
            .flatten(),
        escalation_id: uuid_at(&row.data, "escalation_id"),
        escalation_status,
        meeting_id: uuid_at(&row.data, "meeting_id"),
        meeting_planned_at: row
            .data
            .get("planned_at")
            .and_then(|at| serde_json::from_value(at.clone()).ok()),
    })
}

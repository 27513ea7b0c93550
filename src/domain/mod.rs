//! Pure types and rules of the domain: no I/O.

#[macro_use]
pub mod enums;
pub mod audit;
pub mod coding;
pub mod commitment;
pub mod deadlines;
pub mod escalation;
pub mod events;
pub mod facility_status;
pub mod meeting;
pub mod nir;
pub mod passwords;
pub mod pathway;
pub mod plan;
pub mod policy;
pub mod principal;
pub mod refusal;
pub mod rollout;
pub mod timestamps;
pub mod validation;
pub mod values;

pub use enums::{
    AlertRule, AnswerChannel, AuditOutcome, ClosureReason, CommitmentRefusalReason,
    CommitmentStatus, ConsentBy, ContinuationReason, DecisionAuthority, DecisionKind,
    DeliveryStatus, Domain, EscalationClosure, EscalationLevel, EscalationStatus, EventKind,
    MeetingStatus, NoteVisibility, OrganizationKind, PathwayStatus, PlanEndReason, PlanKind,
    PlanStatus, Qualification, ReferralDeclineReason, ReferralStatus, Role, Sex,
};

//! Closed sets, spelled the same in SQL (PostgreSQL enums), JSON and Rust.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A domain of social action, opened one a year.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::Domain"]
#[DbValueStyle = "snake_case"]
pub enum Domain {
    /// Handicap.
    Disability,
    /// Personnes âgées.
    Elderly,
    /// Enfance / ASE.
    Childhood,
    /// Insertion / RSA.
    Insertion,
}

/// What an account may do (DESIGN.md §2).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::Role"]
#[DbValueStyle = "snake_case"]
pub enum Role {
    /// Manages accounts and reference data; never reads case files.
    Admin,
    /// Supervises the pathways of their territories and domains.
    Supervisor,
    /// Social worker: follows pathways of their territories and domains.
    Coordinator,
    /// Machine client of a partner organization (CAF, MSA).
    Partner,
    /// Reads pseudonymised exports, indicators and the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Supervisor,
        Role::Coordinator,
        Role::Partner,
        Role::Auditor,
    ];

    /// Roles a staff account (a person with a password) may have.
    pub fn is_staff(self) -> bool {
        self != Role::Partner
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::OrganizationKind"]
#[DbValueStyle = "snake_case"]
pub enum OrganizationKind {
    Department,
    Caf,
    Msa,
    Mdph,
    Ars,
    Education,
    EmploymentService,
    Facility,
    Association,
    Other,
}

/// Sex as recorded in the civil status, when known.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::Sex"]
#[DbValueStyle = "snake_case"]
pub enum Sex {
    Female,
    Male,
    Other,
}

/// Where a pathway stands (DESIGN.md §1); the allowed moves are in `domain::pathway`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::PathwayStatus"]
#[DbValueStyle = "snake_case"]
pub enum PathwayStatus {
    /// Demande / saisine: the situation was signalled.
    Referred,
    /// Évaluation.
    Assessment,
    /// Décision prononcée: an orientation was decided.
    Orientation,
    /// Sans solution: the state RAPT exists to empty.
    WithoutSolution,
    /// Solution en place.
    Supported,
    /// Final; a new pathway is opened instead.
    Closed,
}

/// Why a pathway was closed.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::ClosureReason"]
#[DbValueStyle = "snake_case"]
pub enum ClosureReason {
    TargetReached,
    AlternativeSustained,
    PersonRequest,
    MovedAway,
    Deceased,
    NoLongerEligible,
    Other,
}

/// How far a critical situation is escalated.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::EscalationLevel"]
#[DbValueStyle = "snake_case"]
pub enum EscalationLevel {
    Department,
    Regional,
    National,
}

/// Who took an orientation decision.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::DecisionAuthority"]
#[DbValueStyle = "snake_case"]
pub enum DecisionAuthority {
    /// Commission des droits et de l'autonomie (disability).
    Cdaph,
    /// Président du conseil départemental.
    DepartmentPresident,
    /// Juge (des enfants, des tutelles).
    Judge,
    Other,
}

/// Orientation cible (what the person needs) or réponse alternative (what can be done meanwhile).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::DecisionQualification"]
#[DbValueStyle = "snake_case"]
pub enum Qualification {
    Target,
    Alternative,
}

/// Kind of support plan; `pag` is allowed in every domain.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::PlanKind"]
#[DbValueStyle = "snake_case"]
pub enum PlanKind {
    /// Plan d'accompagnement global.
    Pag,
    /// Plan d'aide APA (elderly).
    CarePlan,
    /// Projet pour l'enfant (childhood).
    Ppe,
    /// Contrat d'engagement RSA (insertion).
    EngagementContract,
}

/// Where a plan stands; the allowed moves are in `domain::plan`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::PlanStatus"]
#[DbValueStyle = "snake_case"]
pub enum PlanStatus {
    Draft,
    Proposed,
    /// The person or their representative agreed.
    Consented,
    Active,
    Ended,
}

/// Who gave the prior agreement to a plan.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::ConsentBy"]
#[DbValueStyle = "snake_case"]
pub enum ConsentBy {
    Person,
    LegalRepresentative,
}

/// Why a plan ended.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::PlanEndReason"]
#[DbValueStyle = "snake_case"]
pub enum PlanEndReason {
    ObjectivesMet,
    Replaced,
    ConsentWithdrawn,
    PathwayClosed,
    Other,
}

/// Where an organization's commitment stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::CommitmentStatus"]
#[DbValueStyle = "snake_case"]
pub enum CommitmentStatus {
    Planned,
    InProgress,
    Fulfilled,
    Breached,
    Cancelled,
}

/// `team`: the pathway's professionals; `restricted`: its author and supervisors.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::NoteVisibility"]
#[DbValueStyle = "snake_case"]
pub enum NoteVisibility {
    Team,
    Restricted,
}

/// What happened in a pathway (its timeline).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::EventKind"]
#[DbValueStyle = "snake_case"]
pub enum EventKind {
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
    /// A partner referred the person for this pathway (before triage).
    ReferralReceived,
    /// The département accepted a partner's referral into this pathway.
    ReferralAccepted,
    /// The département declined a partner's referral (no pathway).
    ReferralDeclined,
}

/// Where a partner's referral stands in the département's triage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::ReferralStatus"]
#[DbValueStyle = "snake_case"]
pub enum ReferralStatus {
    /// Received and queued for the staff of the commune's territory.
    Pending,
    /// Accepted: the person is followed in a pathway of the domain, which
    /// the referring partner follows from the moment of acceptance.
    Accepted,
    /// Declined, with a coded reason; nothing was opened.
    Declined,
}

/// Why the département declined a referral.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::ReferralDeclineReason"]
#[DbValueStyle = "snake_case"]
pub enum ReferralDeclineReason {
    /// The person is not eligible to the domain's support.
    NotEligible,
    /// The person lives outside the département's territories.
    OutsideTerritory,
    /// The person already has the support asked for.
    AlreadySupported,
    /// The same referral was already received.
    Duplicate,
    /// Not enough to act on; refer again with more.
    InsufficientInformation,
    /// The person refused the support.
    PersonRefused,
    Other,
}
/// Where one webhook delivery stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::DeliveryStatus"]
#[DbValueStyle = "snake_case"]
pub enum DeliveryStatus {
    /// Not yet acknowledged by the endpoint; retried with backoff.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed (dead-lettered); `POST …/retry` sends it again.
    Dead,
    /// Not sent: the webhook was deleted, or the pathway left your scope
    /// (the person objected to sharing) before it could be sent.
    Cancelled,
}

/// How an audited action ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel_derive_enum::DbEnum,
)]
#[serde(rename_all = "snake_case")]
#[ExistingTypePath = "crate::db::schema::sql_types::AuditOutcome"]
#[DbValueStyle = "snake_case"]
pub enum AuditOutcome {
    Success,
    /// Refused: not authenticated, or not allowed.
    Denied,
    /// Nothing in the caller's scope answers to it.
    NotFound,
    /// Refused as invalid input.
    Invalid,
    /// Failed on the server's side.
    Failed,
}

/// The spelling of a closed-set value in JSON and SQL, for messages.
pub fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

//! The schema of the right-of-access document (`GET /v1/persons/{id}/export`).
//! PostgreSQL builds the document from whole rows (`db::subject_access`), so
//! that a column added later is handed over without a change there; these
//! types say what each row holds, and `tests/api/personal_data.rs` reads a
//! full document through them (unknown members refused): a column added
//! without its line here fails it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::audit::{ActorKind, AuditAction, AuditTarget};
use crate::domain::{
    AuditOutcome, ClosureReason, ConsentBy, ContinuationReason, DecisionAuthority, DecisionKind,
    Domain, EscalationLevel, MeetingStatus, PathwayStatus, PlanEndReason, PlanKind, PlanStatus,
    Qualification, ReferralDeclineReason, ReferralStatus, Role, Sex,
};
use crate::http::timeline::EventView;

// Rows handed over as stored: one definition, the row's own.
pub use crate::db::commitments::Commitment as CommitmentRecord;
pub use crate::db::escalations::Escalation as EscalationRecord;
pub use crate::db::facility_follow_ups::StatusRecord as FacilityStatusRecord;
pub use crate::db::notes::Note as NoteRecord;
pub use crate::db::plans::PlanVersion as PlanVersionRecord;

/// Everything parcours holds about one person.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectAccessDocument {
    pub person: PersonRecord,
    pub pathways: Vec<PathwayRecord>,
    /// The partners' referrals that named the person.
    pub referrals: Vec<ReferralRecord>,
    /// Who accessed the file, oldest first.
    pub access_log: Vec<AccessRecord>,
}

/// A row of `persons` as stored (without the NIR's ciphertext and index), and `nir` masked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRecord {
    pub id: Uuid,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub sex: Option<Sex>,
    pub commune_insee: String,
    pub territory_id: Uuid,
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    pub legal_representative: Option<String>,
    pub sharing_objection: bool,
    pub search_name: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub anonymised_at: Option<DateTime<Utc>>,
    /// The NIR, masked (`2 50 03 ** *** *** 66`); `null` when none is held.
    pub nir: Option<String>,
}

/// A row of `pathways` as stored, with everything recorded under it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub domain: Domain,
    pub territory_id: Uuid,
    pub referent_id: Option<Uuid>,
    pub status: PathwayStatus,
    pub status_since: DateTime<Utc>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub closure_reason: Option<ClosureReason>,
    pub critical_level: Option<EscalationLevel>,
    pub critical_reason: Option<String>,
    pub critical_since: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The person's pathway this one continues, and why.
    pub continues_from: Option<Uuid>,
    pub continuation_reason: Option<ContinuationReason>,
    /// The day of its first orientation decision.
    pub oriented_on: Option<NaiveDate>,
    pub status_history: Vec<StatusPeriodRecord>,
    pub decisions: Vec<DecisionRecord>,
    pub plans: Vec<PlanRecord>,
    pub meetings: Vec<MeetingRecord>,
    pub notes: Vec<NoteRecord>,
    /// The critical situation escalated to other organizations.
    pub escalations: Vec<EscalationRecord>,
    /// Its events, as `GET /v1/pathways/{id}/timeline` serves them.
    pub timeline: Vec<EventView>,
}

/// A row of `pathway_status_periods`: one stretch of time in one status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPeriodRecord {
    pub id: i64,
    pub pathway_id: Uuid,
    pub status: PathwayStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// A row of `decisions` as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub authority: DecisionAuthority,
    pub qualification: Qualification,
    pub label: String,
    pub finess: Option<String>,
    pub decided_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub implemented_on: Option<NaiveDate>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub kind: DecisionKind,
    /// The day every facility it is addressed to had refused it, if so.
    pub facilities_refused_on: Option<NaiveDate>,
    /// The facilities it is addressed to, with where the person stands there.
    pub facilities: Vec<FacilityFollowUpRecord>,
}

/// A row of `facility_follow_ups` as stored (codes of TRE_R357 and
/// TRE_R358), with its statuses.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityFollowUpRecord {
    pub id: Uuid,
    pub decision_id: Uuid,
    pub pathway_id: Uuid,
    pub organization_id: Uuid,
    pub finess: String,
    pub unit: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub status_on: Option<NaiveDate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub statuses: Vec<FacilityStatusRecord>,
}

/// A row of `plans` as stored, with its commitments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRecord {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub kind: PlanKind,
    pub status: PlanStatus,
    pub coordinator_id: Uuid,
    pub objectives: Option<String>,
    pub consent_by: Option<ConsentBy>,
    pub consented_on: Option<NaiveDate>,
    pub activated_on: Option<NaiveDate>,
    pub review_due: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<PlanEndReason>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version_number: i32,
    pub consented_version_number: Option<i32>,
    pub pending_changes: Option<String>,
    pub commitments: Vec<CommitmentRecord>,
    /// The versions the person agreed to.
    pub versions: Vec<PlanVersionRecord>,
}

/// A row of `meetings` (GOS) as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingRecord {
    pub id: Uuid,
    pub pathway_id: Uuid,
    pub held_on: Option<NaiveDate>,
    pub person_agreed: bool,
    pub outcome: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub status: MeetingStatus,
    pub planned_at: Option<DateTime<Utc>>,
    pub plan_id: Option<Uuid>,
    pub cancel_reason: Option<String>,
    pub version: i32,
    /// The organizations invited or that took part (`meeting_organizations`).
    pub organization_ids: Vec<Uuid>,
    /// The professionals invited or that took part (`meeting_users`).
    pub user_ids: Vec<Uuid>,
}

/// A row of `referrals` that named the person, as stored (without the NIR's ciphertext and index).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub person_id: Option<Uuid>,
    pub pathway_id: Option<Uuid>,
    pub domain: Domain,
    pub reason: String,
    pub contact: Option<String>,
    pub person_matched: Option<bool>,
    pub pathway_opened: Option<bool>,
    pub received_at: DateTime<Utc>,
    pub status: ReferralStatus,
    pub territory_id: Uuid,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub commune_insee: String,
    pub partner_number: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
    pub decline_reason: Option<ReferralDeclineReason>,
    pub decision_comment: Option<String>,
}

/// A row of `audit_log` about the person: who read or changed the file, when, from where and why.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRecord {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: ActorKind,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<Role>,
    pub action: AuditAction,
    pub resource_type: Option<AuditTarget>,
    pub resource_id: Option<Uuid>,
    /// What was asked (a list's filters, a search's terms as keyed hashes) or, for a change, what it was before and after.
    #[schema(value_type = Option<std::collections::BTreeMap<String, serde_json::Value>>)]
    pub query: Option<serde_json::Value>,
    pub result_ids: Option<Vec<Uuid>>,
    pub outcome: AuditOutcome,
    pub request_id: Option<String>,
    pub source_address: Option<String>,
    pub user_agent: Option<String>,
    pub purpose: Option<String>,
}

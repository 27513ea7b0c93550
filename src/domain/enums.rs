//! Closed sets, spelled the same in SQL (PostgreSQL enums), JSON and Rust.

/// An enum of the domain with the one spelling of each value, shared by
/// JSON (serde), the OpenAPI document (utoipa) and PostgreSQL (the
/// `db::enums` mapping reads [`as_str`](Domain::as_str) and `parse`).
/// serde and utoipa spell the variants in snake_case; the test below
/// checks that each `$text` is that spelling.
macro_rules! closed_set {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        // The document lists each value with what it means (its doc).
        #[schema(description = concat!(
            $($doc, "\n",)* "\n", $("- `", $text, "`:", $($vdoc,)* "\n",)+
        ))]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const VALUES: &[$name] = &[$($name::$variant),+];

            /// The spelling in JSON and SQL.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// What the value means: its doc comment, or nothing.
            pub fn meaning(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($($vdoc),*).trim(),)+
                }
            }

            /// The value spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

closed_set! {
    /// A domain of social action, opened one a year.
    pub enum Domain {
        /// Handicap.
        Disability => "disability",
        /// Personnes âgées.
        Elderly => "elderly",
        /// Enfance / ASE.
        Childhood => "childhood",
        /// Insertion / RSA.
        Insertion => "insertion",
    }
}

closed_set! {
    /// What an account may do.
    pub enum Role {
        /// Manages accounts and reference data; never reads case files.
        Admin => "admin",
        /// Supervises the pathways of their territories and domains.
        Supervisor => "supervisor",
        /// Social worker: follows pathways of their territories and domains.
        Coordinator => "coordinator",
        /// Machine client of a partner organization (CAF, MSA).
        Partner => "partner",
        /// Reads pseudonymised exports, indicators and the audit log.
        Auditor => "auditor",
    }
}

impl Role {
    /// Roles a staff account (a person with a password) may have.
    pub fn is_staff(self) -> bool {
        self != Role::Partner
    }
}

closed_set! {
    pub enum OrganizationKind {
        /// The département's own services.
        Department => "department",
        /// Caisse d'allocations familiales.
        Caf => "caf",
        /// Mutualité sociale agricole.
        Msa => "msa",
        /// Maison départementale des personnes handicapées.
        Mdph => "mdph",
        /// Agence régionale de santé.
        Ars => "ars",
        /// National education.
        Education => "education",
        /// France Travail, missions locales.
        EmploymentService => "employment_service",
        /// A social or medico-social facility or service (ESMS).
        Facility => "facility",
        /// An association.
        Association => "association",
        /// Another organization.
        Other => "other",
    }
}

closed_set! {
    /// Sex as recorded in the civil status, when known.
    pub enum Sex {
        /// Female.
        Female => "female",
        /// Male.
        Male => "male",
        /// Other or not stated.
        Other => "other",
    }
}

closed_set! {
    /// Where a pathway stands; the moves allowed between statuses are in
    /// `POST /v1/pathways/{id}/transitions` (`domain::pathway` in the code).
    pub enum PathwayStatus {
        /// Demande / saisine: the situation was signalled.
        Referred => "referred",
        /// Évaluation.
        Assessment => "assessment",
        /// Décision prononcée: an orientation was decided.
        Orientation => "orientation",
        /// Sans solution: the state RAPT exists to empty.
        WithoutSolution => "without_solution",
        /// Solution en place.
        Supported => "supported",
        /// Final; a new pathway is opened instead.
        Closed => "closed",
    }
}

closed_set! {
    /// Why a pathway was closed.
    pub enum ClosureReason {
        /// The target solution is in place and lasts.
        TargetReached => "target_reached",
        /// An alternative response lasts and suits the person.
        AlternativeSustained => "alternative_sustained",
        /// The person (or their representative) asked to stop.
        PersonRequest => "person_request",
        /// The person left the département.
        MovedAway => "moved_away",
        /// The person died.
        Deceased => "deceased",
        /// The person no longer falls within the domain.
        NoLongerEligible => "no_longer_eligible",
        /// Another reason, given in the transition's `reason`.
        Other => "other",
    }
}

closed_set! {
    /// Why a pathway continues another of the same person (`continues_from`).
    pub enum ContinuationReason {
        /// An age threshold: majority or 21 in child protection, 20 in a
        /// children's facility (amendement Creton), 60 in disability.
        Age => "age",
        /// The person's needs or situation changed (a disability found in
        /// child protection, a return to work, a move).
        ChangeOfSituation => "change_of_situation",
        /// Another reason, said in the opening's `reason`.
        Other => "other",
    }
}

closed_set! {
    /// A rule raising alerts on an age or a legal deadline (what each
    /// watches: `domain::deadlines`).
    pub enum AlertRule {
        /// Child protection: the interview before majority (CASF L222-5-1),
        /// by default at 17½.
        MajorityInterview => "majority_interview",
        /// Child protection: majority (18), the end of the measure or a
        /// young adult's support (loi du 7 février 2022).
        Majority => "majority",
        /// Child protection: 21, the end of a young adult's support.
        YoungAdultEnd => "young_adult_end",
        /// Disability: 20, a young adult kept in a children's facility
        /// (amendement Creton).
        CretonAge => "creton_age",
        /// Disability: 60, the age barrier (towards the elderly's support).
        AgeBarrier => "age_barrier",
        /// Child protection: the child's project (PPE) within 3 months of
        /// the pathway's opening; met by a PPE consented to.
        PpeDue => "ppe_due",
        /// Insertion: the engagement contract within 1 month of the first
        /// orientation decision; met by a contract consented to.
        EngagementContractDue => "engagement_contract_due",
        /// Every domain: an active plan's review, due the day the plan
        /// records (at most 12 months after activation, `domain::plan`).
        PlanReview => "plan_review",
        /// Every domain: a decision's validity, ending the day it records.
        DecisionExpiring => "decision_expiring",
    }
}

closed_set! {
    /// How far a critical situation is escalated.
    pub enum EscalationLevel {
        /// Handled within the département (commission de situations critiques).
        Department => "department",
        /// Referred to the ARS (regional health agency).
        Regional => "regional",
        /// Referred to the national cell (CNSA / ministry).
        National => "national",
    }
}

closed_set! {
    /// Where an escalated situation stands (`domain::escalation` holds the
    /// moves between them).
    pub enum EscalationStatus {
        /// Sent to the recipient; no word from it yet.
        Sent => "sent",
        /// The recipient acknowledged it.
        Acknowledged => "acknowledged",
        /// The recipient answered.
        Answered => "answered",
        /// The département closed it.
        Closed => "closed",
    }
}

closed_set! {
    /// Where a GOS meeting stands (`domain::meeting` holds the moves).
    pub enum MeetingStatus {
        /// Convened for a time, with its invitees; not held yet.
        Planned => "planned",
        /// Held, with its outcome.
        Held => "held",
        /// Called off, with why.
        Cancelled => "cancelled",
    }
}

closed_set! {
    /// Why the département closed an escalation.
    pub enum EscalationClosure {
        /// The recipient's answer led to a solution for the person.
        SolutionFound => "solution_found",
        /// The recipient answered that it had no solution to offer.
        NoSolution => "no_solution",
        /// The situation was resolved otherwise.
        SituationResolved => "situation_resolved",
        /// Sent by mistake, or no longer needed.
        Withdrawn => "withdrawn",
    }
}

closed_set! {
    /// Who took an orientation decision.
    pub enum DecisionAuthority {
        /// Commission des droits et de l'autonomie (disability).
        Cdaph => "cdaph",
        /// Président du conseil départemental.
        DepartmentPresident => "department_president",
        /// Juge (des enfants, des tutelles).
        Judge => "judge",
        /// Another authority, named in the label.
        Other => "other",
    }
}

closed_set! {
    /// Orientation cible (what the person needs) or réponse alternative (what can be done meanwhile).
    pub enum Qualification {
        /// The response that suits the person (réponse cible).
        Target => "target",
        /// A response while the target one is not available (réponse alternative).
        Alternative => "alternative",
    }
}

closed_set! {
    /// How an organization's answer to a commitment reached the staff who
    /// record it on its behalf.
    pub enum AnswerChannel {
        /// By telephone.
        Phone => "phone",
        /// By post.
        Letter => "letter",
        /// By e-mail.
        Email => "email",
        /// Said in a meeting (a GOS, say).
        Meeting => "meeting",
        /// Another way, said in the timeline's reason.
        Other => "other",
    }
}

closed_set! {
    /// Why an organization refused a commitment proposed to it. No national
    /// list exists for PAG commitments: these codes are parcours' own.
    pub enum CommitmentRefusalReason {
        /// No place, time or staff available for it.
        NoCapacity => "no_capacity",
        /// Not within the organization's mission.
        OutsideMission => "outside_mission",
        /// The person is not eligible to the organization's support.
        NotEligible => "not_eligible",
        /// The person is already supported for this, by it or another.
        AlreadySupported => "already_supported",
        /// Another reason, said to the referent.
        Other => "other",
    }
}

closed_set! {
    /// What an authority decided on a request.
    pub enum DecisionKind {
        /// An orientation towards a response (it may name facilities).
        Orientation => "orientation",
        /// The request was rejected: no orientation (never counted as one).
        Rejection => "rejection",
        /// The decision was deferred (sursis à statuer).
        Deferral => "deferral",
    }
}

/// A decision recorded without a kind, before kinds existed or in a
/// request that names none, is an orientation.
impl Default for DecisionKind {
    fn default() -> Self {
        Self::Orientation
    }
}

closed_set! {
    /// Kind of support plan; `pag` is allowed in every domain.
    pub enum PlanKind {
        /// Plan d'accompagnement global.
        Pag => "pag",
        /// Plan d'aide APA (elderly).
        CarePlan => "care_plan",
        /// Projet pour l'enfant (childhood).
        Ppe => "ppe",
        /// Contrat d'engagement RSA (insertion).
        EngagementContract => "engagement_contract",
    }
}

closed_set! {
    /// Where a plan stands; the moves allowed between statuses are in
    /// `POST /v1/plans/{id}/transitions` (`domain::plan` in the code).
    pub enum PlanStatus {
        /// Being written.
        Draft => "draft",
        /// Proposed to the person.
        Proposed => "proposed",
        /// The person or their representative agreed.
        Consented => "consented",
        /// In force, with a review date.
        Active => "active",
        /// Over, with a reason.
        Ended => "ended",
    }
}

closed_set! {
    /// Who gave the prior agreement to a plan.
    pub enum ConsentBy {
        /// The person themself.
        Person => "person",
        /// Their legal representative (guardian, parent).
        LegalRepresentative => "legal_representative",
    }
}

closed_set! {
    /// Why a plan ended. A PAG ends for a national reason (TRE_R421, the
    /// last nine, see `domain::plan::national_end_reason`); the first five
    /// are parcours' own, for the other kinds of plan.
    pub enum PlanEndReason {
        /// Its objectives were met.
        ObjectivesMet => "objectives_met",
        /// A new plan replaces it.
        Replaced => "replaced",
        /// The person withdrew their consent.
        ConsentWithdrawn => "consent_withdrawn",
        /// Its pathway was closed.
        PathwayClosed => "pathway_closed",
        /// Another reason.
        Other => "other",
        /// TRE_R421 1: the target response was reached.
        TargetReached => "target_reached",
        /// TRE_R421 2: the alternative response was stabilised and made lasting.
        AlternativeSustained => "alternative_sustained",
        /// TRE_R421 3: the PAG's specific solution, stabilised, became the target.
        SpecificSolutionBecameTarget => "specific_solution_became_target",
        /// TRE_R421 4: coordination works without a PAG.
        CoordinationWithoutPag => "coordination_without_pag",
        /// TRE_R421 5: at the person's request.
        PersonRequest => "person_request",
        /// TRE_R421 6: the derogations ended.
        DerogationsEnded => "derogations_ended",
        /// TRE_R421 7: a new PAG is being drawn up.
        NewPag => "new_pag",
        /// TRE_R421 8: the person moved out of the département.
        MovedOutOfDepartment => "moved_out_of_department",
        /// TRE_R421 9: the person died.
        Deceased => "deceased",
    }
}

closed_set! {
    /// Where an organization's commitment stands.
    pub enum CommitmentStatus {
        /// Proposed to the organization, which has not answered yet.
        Proposed => "proposed",
        /// The organization accepted it; not started.
        Accepted => "accepted",
        /// The organization refused it (`refusal_reason`).
        Refused => "refused",
        /// Under way.
        InProgress => "in_progress",
        /// Done as committed.
        Fulfilled => "fulfilled",
        /// Not kept.
        Breached => "breached",
        /// Withdrawn before it was done.
        Cancelled => "cancelled",
    }
}

closed_set! {
    /// `team`: the pathway's professionals; `restricted`: its author and supervisors.
    pub enum NoteVisibility {
        /// Every staff member of the pathway's scope.
        Team => "team",
        /// Its author and the supervisors of the scope only.
        Restricted => "restricted",
    }
}

closed_set! {
    /// What happened in a pathway (its timeline).
    pub enum EventKind {
        /// The pathway was opened.
        PathwayOpened => "pathway_opened",
        /// Its status moved (`from`, `to`, `reason`).
        StatusChanged => "status_changed",
        /// Another referent follows it.
        ReferentAssigned => "referent_assigned",
        /// One of its fields changed.
        PathwayUpdated => "pathway_updated",
        /// Flagged or escalated as a critical situation.
        CriticalSet => "critical_set",
        /// No longer a critical situation.
        CriticalCleared => "critical_cleared",
        /// An authority's decision was recorded.
        DecisionRecorded => "decision_recorded",
        /// A support plan was started.
        PlanCreated => "plan_created",
        /// A plan's objectives, coordinator or review date changed.
        PlanUpdated => "plan_updated",
        /// A plan's status moved.
        PlanStatusChanged => "plan_status_changed",
        /// An organization committed to a plan.
        CommitmentAdded => "commitment_added",
        /// A commitment changed.
        CommitmentUpdated => "commitment_updated",
        /// A GOS meeting was held.
        MeetingHeld => "meeting_held",
        /// A note was written (its text is never in the event).
        NoteAdded => "note_added",
        /// A partner referred the person for this pathway (before triage).
        ReferralReceived => "referral_received",
        /// The département accepted a partner's referral into this pathway.
        ReferralAccepted => "referral_accepted",
        /// The département declined a partner's referral (no pathway).
        ReferralDeclined => "referral_declined",
        /// An orientation was addressed to a facility.
        FacilityNotified => "facility_notified",
        /// A facility's follow-up of an orientation moved to a new status.
        FacilityStatusChanged => "facility_status_changed",
        /// The person agreed to a new version of a plan in force.
        PlanVersionConsented => "plan_version_consented",
        /// Another pathway of the person continues this one (`continues_from`).
        PathwayContinued => "pathway_continued",
        /// The critical situation was escalated to an organization.
        EscalationSent => "escalation_sent",
        /// An escalation was acknowledged, answered or closed.
        EscalationStatusChanged => "escalation_status_changed",
        /// A GOS meeting was convened (its invitation).
        MeetingPlanned => "meeting_planned",
        /// A GOS meeting convened was called off.
        MeetingCancelled => "meeting_cancelled",
    }
}

closed_set! {
    /// Where a partner's referral stands in the département's triage.
    pub enum ReferralStatus {
        /// Received and queued for the staff of the commune's territory.
        Pending => "pending",
        /// Accepted: the person is followed in a pathway of the domain, which
        /// the referring partner follows from the moment of acceptance.
        Accepted => "accepted",
        /// Declined, with a coded reason; nothing was opened.
        Declined => "declined",
    }
}

closed_set! {
    /// Why the département declined a referral.
    pub enum ReferralDeclineReason {
        /// The person is not eligible to the domain's support.
        NotEligible => "not_eligible",
        /// The person lives outside the département's territories.
        OutsideTerritory => "outside_territory",
        /// The person already has the support asked for.
        AlreadySupported => "already_supported",
        /// The same referral was already received.
        Duplicate => "duplicate",
        /// Not enough to act on; refer again with more.
        InsufficientInformation => "insufficient_information",
        /// The person refused the support.
        PersonRefused => "person_refused",
        /// Another reason, given in the comment.
        Other => "other",
    }
}
closed_set! {
    /// Where one webhook delivery stands.
    pub enum DeliveryStatus {
        /// Not yet acknowledged by the endpoint; retried with backoff.
        Pending => "pending",
        /// The endpoint answered 2xx.
        Delivered => "delivered",
        /// Every attempt failed (dead-lettered); `POST …/retry` sends it again.
        Dead => "dead",
        /// Not sent: the webhook was deleted, or the pathway left your scope
        /// (the person objected to sharing) before it could be sent.
        Cancelled => "cancelled",
    }
}

closed_set! {
    /// How an audited action ended.
    pub enum AuditOutcome {
        /// Done as asked.
        Success => "success",
        /// Refused: not authenticated, or not allowed.
        Denied => "denied",
        /// Nothing in the caller's scope answers to it.
        NotFound => "not_found",
        /// Refused as invalid input.
        Invalid => "invalid",
        /// Failed on the server's side.
        Failed => "failed",
    }
}

/// The spelling of a closed-set value in JSON and SQL, for messages.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spelled_alike<T: serde::Serialize + Copy>(values: &[T], as_str: fn(T) -> &'static str) {
        for value in values {
            assert_eq!(serde_json::to_value(value).unwrap(), as_str(*value));
        }
    }

    #[test]
    fn json_and_sql_spell_every_value_alike() {
        spelled_alike(Domain::VALUES, Domain::as_str);
        spelled_alike(Role::VALUES, Role::as_str);
        spelled_alike(OrganizationKind::VALUES, OrganizationKind::as_str);
        spelled_alike(Sex::VALUES, Sex::as_str);
        spelled_alike(PathwayStatus::VALUES, PathwayStatus::as_str);
        spelled_alike(ClosureReason::VALUES, ClosureReason::as_str);
        spelled_alike(ContinuationReason::VALUES, ContinuationReason::as_str);
        spelled_alike(AlertRule::VALUES, AlertRule::as_str);
        spelled_alike(EscalationLevel::VALUES, EscalationLevel::as_str);
        spelled_alike(EscalationStatus::VALUES, EscalationStatus::as_str);
        spelled_alike(EscalationClosure::VALUES, EscalationClosure::as_str);
        spelled_alike(MeetingStatus::VALUES, MeetingStatus::as_str);
        spelled_alike(DecisionAuthority::VALUES, DecisionAuthority::as_str);
        spelled_alike(Qualification::VALUES, Qualification::as_str);
        spelled_alike(DecisionKind::VALUES, DecisionKind::as_str);
        spelled_alike(PlanKind::VALUES, PlanKind::as_str);
        spelled_alike(PlanStatus::VALUES, PlanStatus::as_str);
        spelled_alike(ConsentBy::VALUES, ConsentBy::as_str);
        spelled_alike(PlanEndReason::VALUES, PlanEndReason::as_str);
        spelled_alike(CommitmentStatus::VALUES, CommitmentStatus::as_str);
        spelled_alike(
            CommitmentRefusalReason::VALUES,
            CommitmentRefusalReason::as_str,
        );
        spelled_alike(AnswerChannel::VALUES, AnswerChannel::as_str);
        spelled_alike(NoteVisibility::VALUES, NoteVisibility::as_str);
        spelled_alike(EventKind::VALUES, EventKind::as_str);
        spelled_alike(ReferralStatus::VALUES, ReferralStatus::as_str);
        spelled_alike(ReferralDeclineReason::VALUES, ReferralDeclineReason::as_str);
        spelled_alike(DeliveryStatus::VALUES, DeliveryStatus::as_str);
        spelled_alike(AuditOutcome::VALUES, AuditOutcome::as_str);
    }

    #[test]
    fn every_spelling_parses_back() {
        for value in EventKind::VALUES {
            assert_eq!(EventKind::parse(value.as_str()), Some(*value));
        }
        assert_eq!(Domain::parse("Disability"), None);
    }
}

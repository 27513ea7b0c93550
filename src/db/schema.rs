// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "alert_rule"))]
    pub struct AlertRule;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "answer_channel"))]
    pub struct AnswerChannel;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "audit_outcome"))]
    pub struct AuditOutcome;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "closure_reason"))]
    pub struct ClosureReason;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "commitment_refusal_reason"))]
    pub struct CommitmentRefusalReason;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "commitment_status"))]
    pub struct CommitmentStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "consent_by"))]
    pub struct ConsentBy;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "continuation_reason"))]
    pub struct ContinuationReason;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "decision_authority"))]
    pub struct DecisionAuthority;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "decision_kind"))]
    pub struct DecisionKind;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "decision_qualification"))]
    pub struct DecisionQualification;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "delivery_status"))]
    pub struct DeliveryStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "domain"))]
    pub struct Domain;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "escalation_closure"))]
    pub struct EscalationClosure;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "escalation_level"))]
    pub struct EscalationLevel;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "escalation_status"))]
    pub struct EscalationStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "event_kind"))]
    pub struct EventKind;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "meeting_status"))]
    pub struct MeetingStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "note_visibility"))]
    pub struct NoteVisibility;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "organization_kind"))]
    pub struct OrganizationKind;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "pathway_status"))]
    pub struct PathwayStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "plan_end_reason"))]
    pub struct PlanEndReason;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "plan_kind"))]
    pub struct PlanKind;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "plan_status"))]
    pub struct PlanStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "referral_decline_reason"))]
    pub struct ReferralDeclineReason;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "referral_status"))]
    pub struct ReferralStatus;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "role"))]
    pub struct Role;

    #[derive(diesel::query_builder::QueryId, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "sex"))]
    pub struct Sex;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::AlertRule;

    alert_rules (rule) {
        rule -> AlertRule,
        months -> Nullable<Int4>,
        notice_days -> Int4,
        active -> Bool,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    audit_chain (position) {
        position -> Int8,
        record_seq -> Int8,
        hash -> Bytea,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Role;
    use super::sql_types::AuditOutcome;

    audit_log (seq, occurred_at) {
        seq -> Int8,
        occurred_at -> Timestamptz,
        txid -> Int8,
        actor_kind -> Text,
        actor_id -> Nullable<Uuid>,
        actor_role -> Nullable<Role>,
        action -> Text,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Uuid>,
        query -> Nullable<Jsonb>,
        result_ids -> Nullable<Array<Nullable<Uuid>>>,
        outcome -> AuditOutcome,
        request_id -> Nullable<Text>,
        source_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        purpose -> Nullable<Text>,
    }
}

diesel::table! {
    audit_seals (id) {
        id -> Int8,
        upto_position -> Int8,
        upto_txid -> Int8,
        upto_seq -> Int8,
        horizon -> Int8,
        hash -> Bytea,
        signature -> Bytea,
        key_id -> Text,
        sealed_at -> Timestamptz,
    }
}

diesel::table! {
    audit_verifications (id) {
        id -> Int8,
        verified_at -> Timestamptz,
        full_check -> Bool,
        from_position -> Int8,
        upto_seal_id -> Nullable<Int8>,
        upto_position -> Int8,
        linked_upto_seq -> Int8,
        records_checked -> Int8,
        intact -> Bool,
    }
}

diesel::table! {
    clients (id) {
        id -> Uuid,
        client_id -> Text,
        name -> Text,
        organization_id -> Uuid,
        secret_digest -> Bytea,
        secret_rotated_at -> Timestamptz,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::CommitmentStatus;
    use super::sql_types::CommitmentRefusalReason;
    use super::sql_types::AnswerChannel;

    commitments (id) {
        id -> Uuid,
        plan_id -> Uuid,
        organization_id -> Uuid,
        description -> Text,
        frequency -> Nullable<Text>,
        due_on -> Nullable<Date>,
        status -> CommitmentStatus,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        refusal_reason -> Nullable<CommitmentRefusalReason>,
        answered_at -> Nullable<Timestamptz>,
        answered_by -> Nullable<Uuid>,
        answer_received_via -> Nullable<AnswerChannel>,
        answer_received_on -> Nullable<Date>,
    }
}

diesel::table! {
    communes (insee) {
        insee -> Text,
        name -> Text,
        territory_id -> Nullable<Uuid>,
        department -> Text,
        epci -> Nullable<Text>,
        epci_name -> Nullable<Text>,
        search_name -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::DecisionAuthority;
    use super::sql_types::DecisionQualification;
    use super::sql_types::DecisionKind;

    decisions (id) {
        id -> Uuid,
        pathway_id -> Uuid,
        authority -> DecisionAuthority,
        qualification -> DecisionQualification,
        label -> Text,
        finess -> Nullable<Text>,
        decided_on -> Date,
        valid_until -> Nullable<Date>,
        implemented_on -> Nullable<Date>,
        recorded_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        kind -> DecisionKind,
        facilities_refused_on -> Nullable<Date>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Domain;

    domain_calendar (domain) {
        domain -> Domain,
        opens_on -> Date,
        version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::EscalationLevel;
    use super::sql_types::EscalationStatus;
    use super::sql_types::EscalationClosure;

    escalations (id) {
        id -> Uuid,
        pathway_id -> Uuid,
        organization_id -> Uuid,
        level -> EscalationLevel,
        summary -> Text,
        due_on -> Date,
        status -> EscalationStatus,
        sent_by -> Uuid,
        sent_at -> Timestamptz,
        acknowledged_by -> Nullable<Uuid>,
        acknowledged_at -> Nullable<Timestamptz>,
        answer -> Nullable<Text>,
        answered_by -> Nullable<Uuid>,
        answered_at -> Nullable<Timestamptz>,
        closure -> Nullable<EscalationClosure>,
        closed_by -> Nullable<Uuid>,
        closed_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    facility_follow_ups (id) {
        id -> Uuid,
        decision_id -> Uuid,
        pathway_id -> Uuid,
        organization_id -> Uuid,
        finess -> Text,
        unit -> Nullable<Text>,
        status -> Nullable<Text>,
        reason -> Nullable<Text>,
        status_on -> Nullable<Date>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    facility_statuses (id) {
        id -> Uuid,
        follow_up_id -> Uuid,
        status -> Text,
        reason -> Nullable<Text>,
        status_on -> Date,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (subject_id, key) {
        subject_id -> Uuid,
        key -> Text,
        fingerprint -> Bytea,
        status -> Nullable<Int2>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        body -> Nullable<Bytea>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        claim -> Uuid,
        claimed_until -> Timestamptz,
        committed_at -> Nullable<Timestamptz>,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Bytea,
        failures -> Int4,
        window_started_at -> Timestamptz,
        blocked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    meeting_organizations (meeting_id, organization_id) {
        meeting_id -> Uuid,
        organization_id -> Uuid,
    }
}

diesel::table! {
    meeting_users (meeting_id, user_id) {
        meeting_id -> Uuid,
        user_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::MeetingStatus;

    meetings (id) {
        id -> Uuid,
        pathway_id -> Uuid,
        held_on -> Nullable<Date>,
        person_agreed -> Bool,
        outcome -> Nullable<Text>,
        recorded_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        status -> MeetingStatus,
        planned_at -> Nullable<Timestamptz>,
        plan_id -> Nullable<Uuid>,
        cancel_reason -> Nullable<Text>,
        version -> Int4,
    }
}

diesel::table! {
    name_words (word) {
        word -> Text,
        persons -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::NoteVisibility;

    notes (id) {
        id -> Uuid,
        pathway_id -> Uuid,
        author_id -> Uuid,
        visibility -> NoteVisibility,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::OrganizationKind;

    organizations (id) {
        id -> Uuid,
        kind -> OrganizationKind,
        name -> Text,
        siret -> Nullable<Text>,
        finess -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::EventKind;

    pathway_events (seq) {
        seq -> Int8,
        pathway_id -> Nullable<Uuid>,
        kind -> EventKind,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        data -> Jsonb,
        txid -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::PathwayStatus;

    pathway_status_periods (id) {
        id -> Int8,
        pathway_id -> Uuid,
        status -> PathwayStatus,
        started_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Domain;
    use super::sql_types::PathwayStatus;
    use super::sql_types::ClosureReason;
    use super::sql_types::EscalationLevel;
    use super::sql_types::ContinuationReason;

    pathways (id) {
        id -> Uuid,
        person_id -> Uuid,
        domain -> Domain,
        territory_id -> Uuid,
        referent_id -> Nullable<Uuid>,
        status -> PathwayStatus,
        status_since -> Timestamptz,
        opened_on -> Date,
        closed_on -> Nullable<Date>,
        closure_reason -> Nullable<ClosureReason>,
        critical_level -> Nullable<EscalationLevel>,
        critical_reason -> Nullable<Text>,
        critical_since -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        continues_from -> Nullable<Uuid>,
        continuation_reason -> Nullable<ContinuationReason>,
        oriented_on -> Nullable<Date>,
    }
}

diesel::table! {
    person_name_words (word, person_id) {
        word -> Text,
        person_id -> Uuid,
        territory_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Sex;

    persons (id) {
        id -> Uuid,
        family_name -> Text,
        given_names -> Text,
        birth_date -> Date,
        sex -> Nullable<Sex>,
        commune_insee -> Text,
        territory_id -> Uuid,
        caf_number -> Nullable<Text>,
        msa_number -> Nullable<Text>,
        legal_representative -> Nullable<Text>,
        sharing_objection -> Bool,
        nir_ciphertext -> Nullable<Bytea>,
        nir_index -> Nullable<Bytea>,
        search_name -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        anonymised_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::ConsentBy;

    plan_versions (plan_id, number) {
        plan_id -> Uuid,
        number -> Int4,
        objectives -> Nullable<Text>,
        commitments -> Jsonb,
        changes -> Nullable<Text>,
        consent_by -> ConsentBy,
        consented_on -> Date,
        recorded_by -> Uuid,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::PlanKind;
    use super::sql_types::PlanStatus;
    use super::sql_types::ConsentBy;
    use super::sql_types::PlanEndReason;

    plans (id) {
        id -> Uuid,
        pathway_id -> Uuid,
        kind -> PlanKind,
        status -> PlanStatus,
        coordinator_id -> Uuid,
        objectives -> Nullable<Text>,
        consent_by -> Nullable<ConsentBy>,
        consented_on -> Nullable<Date>,
        activated_on -> Nullable<Date>,
        review_due -> Nullable<Date>,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<PlanEndReason>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version_number -> Int4,
        consented_version_number -> Nullable<Int4>,
        pending_changes -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Domain;
    use super::sql_types::ReferralStatus;
    use super::sql_types::ReferralDeclineReason;

    referrals (id) {
        id -> Uuid,
        client_id -> Uuid,
        organization_id -> Uuid,
        person_id -> Nullable<Uuid>,
        pathway_id -> Nullable<Uuid>,
        domain -> Domain,
        reason -> Text,
        contact -> Nullable<Text>,
        person_matched -> Nullable<Bool>,
        pathway_opened -> Nullable<Bool>,
        received_at -> Timestamptz,
        status -> ReferralStatus,
        territory_id -> Uuid,
        family_name -> Text,
        given_names -> Text,
        birth_date -> Date,
        commune_insee -> Text,
        partner_number -> Nullable<Text>,
        nir_ciphertext -> Nullable<Bytea>,
        nir_index -> Nullable<Bytea>,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Uuid>,
        decline_reason -> Nullable<ReferralDeclineReason>,
        decision_comment -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        user_id -> Uuid,
        token_digest -> Bytea,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    territories (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    user_territories (user_id, territory_id) {
        user_id -> Uuid,
        territory_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Role;
    use super::sql_types::Domain;

    users (id) {
        id -> Uuid,
        email -> Text,
        display_name -> Text,
        role -> Role,
        domains -> Array<Nullable<Domain>>,
        active -> Bool,
        password_hash -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        password_change_required -> Bool,
        tokens_valid_after -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::EventKind;
    use super::sql_types::DeliveryStatus;

    webhook_deliveries (id) {
        id -> Uuid,
        webhook_id -> Uuid,
        event_seq -> Int8,
        event_kind -> EventKind,
        status -> DeliveryStatus,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_attempt_at -> Nullable<Timestamptz>,
        last_response_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        organization_id -> Uuid,
        url -> Text,
        event_types -> Array<Nullable<Text>>,
        description -> Nullable<Text>,
        secret_ciphertext -> Bytea,
        previous_secret_ciphertext -> Nullable<Bytea>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        active -> Bool,
        created_by -> Uuid,
        created_at -> Timestamptz,
        disabled_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(clients -> organizations (organization_id));
diesel::joinable!(commitments -> organizations (organization_id));
diesel::joinable!(commitments -> plans (plan_id));
diesel::joinable!(communes -> territories (territory_id));
diesel::joinable!(decisions -> pathways (pathway_id));
diesel::joinable!(decisions -> users (recorded_by));
diesel::joinable!(escalations -> organizations (organization_id));
diesel::joinable!(escalations -> pathways (pathway_id));
diesel::joinable!(escalations -> users (sent_by));
diesel::joinable!(facility_follow_ups -> decisions (decision_id));
diesel::joinable!(facility_follow_ups -> organizations (organization_id));
diesel::joinable!(facility_follow_ups -> pathways (pathway_id));
diesel::joinable!(facility_statuses -> facility_follow_ups (follow_up_id));
diesel::joinable!(meeting_organizations -> meetings (meeting_id));
diesel::joinable!(meeting_organizations -> organizations (organization_id));
diesel::joinable!(meeting_users -> meetings (meeting_id));
diesel::joinable!(meeting_users -> users (user_id));
diesel::joinable!(meetings -> pathways (pathway_id));
diesel::joinable!(meetings -> users (recorded_by));
diesel::joinable!(notes -> pathways (pathway_id));
diesel::joinable!(notes -> users (author_id));
diesel::joinable!(pathway_events -> pathways (pathway_id));
diesel::joinable!(pathway_status_periods -> pathways (pathway_id));
diesel::joinable!(pathways -> persons (person_id));
diesel::joinable!(pathways -> territories (territory_id));
diesel::joinable!(pathways -> users (referent_id));
diesel::joinable!(person_name_words -> persons (person_id));
diesel::joinable!(persons -> territories (territory_id));
diesel::joinable!(plan_versions -> plans (plan_id));
diesel::joinable!(plans -> pathways (pathway_id));
diesel::joinable!(plans -> users (coordinator_id));
diesel::joinable!(referrals -> clients (client_id));
diesel::joinable!(referrals -> organizations (organization_id));
diesel::joinable!(referrals -> pathways (pathway_id));
diesel::joinable!(referrals -> persons (person_id));
diesel::joinable!(referrals -> territories (territory_id));
diesel::joinable!(referrals -> users (decided_by));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(user_territories -> territories (territory_id));
diesel::joinable!(user_territories -> users (user_id));
diesel::joinable!(webhook_deliveries -> pathway_events (event_seq));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhooks -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    alert_rules,
    audit_chain,
    audit_log,
    audit_seals,
    audit_verifications,
    clients,
    commitments,
    communes,
    decisions,
    domain_calendar,
    escalations,
    facility_follow_ups,
    facility_statuses,
    idempotency_keys,
    login_throttle,
    meeting_organizations,
    meeting_users,
    meetings,
    name_words,
    notes,
    organizations,
    pathway_events,
    pathway_status_periods,
    pathways,
    person_name_words,
    persons,
    plan_versions,
    plans,
    referrals,
    refresh_tokens,
    territories,
    user_territories,
    users,
    webhook_deliveries,
    webhooks,
);

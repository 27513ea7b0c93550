-- PostgreSQL cannot drop an enum value: rebuild the type without them.
ALTER TYPE event_kind RENAME TO event_kind_with_triage;
CREATE TYPE event_kind AS ENUM (
    'pathway_opened', 'status_changed', 'referent_assigned', 'pathway_updated',
    'critical_set', 'critical_cleared', 'decision_recorded', 'plan_created',
    'plan_updated', 'plan_status_changed', 'commitment_added', 'commitment_updated',
    'meeting_held', 'note_added', 'referral_received'
);
DROP FUNCTION parcours_partner_may_know(event_kind_with_triage, jsonb, uuid);
ALTER TABLE pathway_events ALTER COLUMN kind TYPE event_kind USING kind::text::event_kind;
ALTER TABLE webhook_deliveries ALTER COLUMN event_kind TYPE event_kind USING event_kind::text::event_kind;
DROP TYPE event_kind_with_triage;
CREATE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;

-- PostgreSQL cannot drop an enum value: rebuild the type without them (its
-- dependents, the partner function and the view on it, with it).
DROP VIEW partner_events;
ALTER TYPE event_kind RENAME TO event_kind_with_meetings_planned;
CREATE TYPE event_kind AS ENUM (
    'pathway_opened', 'status_changed', 'referent_assigned', 'pathway_updated',
    'critical_set', 'critical_cleared', 'decision_recorded', 'plan_created',
    'plan_updated', 'plan_status_changed', 'commitment_added', 'commitment_updated',
    'meeting_held', 'note_added', 'referral_received', 'referral_accepted', 'referral_declined',
    'facility_notified', 'facility_status_changed', 'plan_version_consented',
    'pathway_continued', 'escalation_sent', 'escalation_status_changed'
);
DROP FUNCTION parcours_partner_may_know(event_kind_with_meetings_planned, jsonb, uuid);
ALTER TABLE pathway_events DROP CONSTRAINT pathway_events_pathway_named;
DROP INDEX pathway_events_commitment_moves_idx;
ALTER TABLE pathway_events ALTER COLUMN kind TYPE event_kind USING kind::text::event_kind;
ALTER TABLE pathway_events ADD CONSTRAINT pathway_events_pathway_named CHECK (
    pathway_id IS NOT NULL OR kind = 'referral_declined');
CREATE INDEX pathway_events_commitment_moves_idx ON pathway_events (occurred_at)
    WHERE kind IN ('commitment_added', 'commitment_updated');
ALTER TABLE webhook_deliveries ALTER COLUMN event_kind TYPE event_kind USING event_kind::text::event_kind;
DROP TYPE event_kind_with_meetings_planned;
CREATE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received',
                     'referral_accepted', 'referral_declined', 'facility_notified',
                     'facility_status_changed', 'escalation_sent', 'escalation_status_changed')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;
CREATE VIEW partner_events AS
SELECT pp.organization_id, e.seq, e.txid
FROM partner_pathways pp
JOIN pathway_events e ON e.pathway_id = pp.pathway_id AND e.occurred_at >= pp.since
WHERE parcours_partner_may_know(e.kind, e.data, pp.organization_id)
UNION ALL
SELECT (e.data->>'organization_id')::uuid, e.seq, e.txid
FROM pathway_events e
WHERE e.pathway_id IS NULL AND e.kind = 'referral_declined';

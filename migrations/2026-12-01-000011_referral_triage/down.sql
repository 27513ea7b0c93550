-- Back to referrals taken in at once. Referrals not accepted have no
-- pathway to go back to and are dropped; a declined referral's event has
-- no pathway either and stops this down migration (events are append-only).
CREATE OR REPLACE FUNCTION parcours_webhook_outbox() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE active) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (webhook_id, event_seq, event_kind)
    SELECT w.id, e.seq, e.kind
    FROM new_events e
    JOIN partner_pathways pp ON pp.pathway_id = e.pathway_id
    JOIN webhooks w ON w.organization_id = pp.organization_id
    WHERE w.active
      AND e.kind::text = ANY (w.event_types)
      AND parcours_partner_may_know(e.kind, e.data, w.organization_id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP VIEW partner_events;
CREATE OR REPLACE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;

DROP VIEW partner_pathways;
CREATE VIEW partner_pathways AS
SELECT followed.organization_id, followed.pathway_id
FROM (
    SELECT r.organization_id, r.pathway_id FROM referrals r
    UNION
    SELECT c.organization_id, pl.pathway_id
    FROM commitments c JOIN plans pl ON pl.id = c.plan_id
) AS followed
JOIN pathways p ON p.id = followed.pathway_id
JOIN persons pe ON pe.id = p.person_id
WHERE NOT pe.sharing_objection;

DROP INDEX pathway_events_unattached_idx;
ALTER TABLE pathway_events
    DROP CONSTRAINT pathway_events_pathway_named,
    ALTER COLUMN pathway_id SET NOT NULL;

DELETE FROM referrals WHERE status <> 'accepted';
DROP INDEX referrals_queue_idx;
ALTER TABLE referrals
    DROP CONSTRAINT referrals_accepted_names_pathway,
    DROP CONSTRAINT referrals_decided_when,
    DROP CONSTRAINT referrals_declined_why,
    ALTER COLUMN person_id SET NOT NULL,
    ALTER COLUMN pathway_id SET NOT NULL,
    ALTER COLUMN person_matched SET NOT NULL,
    ALTER COLUMN pathway_opened SET NOT NULL,
    DROP COLUMN status,
    DROP COLUMN territory_id,
    DROP COLUMN family_name,
    DROP COLUMN given_names,
    DROP COLUMN birth_date,
    DROP COLUMN commune_insee,
    DROP COLUMN partner_number,
    DROP COLUMN nir_ciphertext,
    DROP COLUMN nir_index,
    DROP COLUMN decided_at,
    DROP COLUMN decided_by,
    DROP COLUMN decline_reason,
    DROP COLUMN decision_comment;
DROP TYPE referral_decline_reason;
DROP TYPE referral_status;

-- Referral triage: a referral is queued for the staff of the commune's
-- territory, who accept it (matching or creating the person, opening or
-- joining the pathway) or decline it with a coded reason. Until then it
-- holds what the partner said, and the partner follows nothing.

CREATE TYPE referral_status AS ENUM ('pending', 'accepted', 'declined');
CREATE TYPE referral_decline_reason AS ENUM (
    'not_eligible', 'outside_territory', 'already_supported', 'duplicate',
    'insufficient_information', 'person_refused', 'other'
);

ALTER TABLE referrals
    ADD COLUMN status referral_status NOT NULL DEFAULT 'pending',
    -- The queue it waits in: the territory of the commune the partner gave.
    ADD COLUMN territory_id uuid REFERENCES territories (id),
    -- What the partner said of the person, kept as said.
    ADD COLUMN family_name text CHECK (length(family_name) BETWEEN 1 AND 200),
    ADD COLUMN given_names text CHECK (length(given_names) BETWEEN 1 AND 200),
    ADD COLUMN birth_date date,
    ADD COLUMN commune_insee text CHECK (commune_insee ~ '^([0-9]{2}|2A|2B)[0-9]{3}$'),
    ADD COLUMN partner_number text CHECK (length(partner_number) BETWEEN 1 AND 20),
    -- The NIR, encrypted and bound to the referral's id, and its blind index.
    ADD COLUMN nir_ciphertext bytea,
    ADD COLUMN nir_index bytea,
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN decided_by uuid REFERENCES users (id),
    ADD COLUMN decline_reason referral_decline_reason,
    ADD COLUMN decision_comment text CHECK (length(decision_comment) BETWEEN 1 AND 2000);

-- Referrals received before triage were taken in at once: accepted then.
UPDATE referrals r
SET status = 'accepted', decided_at = r.received_at, territory_id = p.territory_id,
    family_name = pe.family_name, given_names = pe.given_names,
    birth_date = pe.birth_date, commune_insee = pe.commune_insee
FROM pathways p, persons pe
WHERE p.id = r.pathway_id AND pe.id = r.person_id;

ALTER TABLE referrals
    ALTER COLUMN territory_id SET NOT NULL,
    ALTER COLUMN family_name SET NOT NULL,
    ALTER COLUMN given_names SET NOT NULL,
    ALTER COLUMN birth_date SET NOT NULL,
    ALTER COLUMN commune_insee SET NOT NULL,
    ALTER COLUMN person_id DROP NOT NULL,
    ALTER COLUMN pathway_id DROP NOT NULL,
    ALTER COLUMN person_matched DROP NOT NULL,
    ALTER COLUMN pathway_opened DROP NOT NULL,
    ADD CONSTRAINT referrals_accepted_names_pathway CHECK (
        (status = 'accepted') = (pathway_id IS NOT NULL AND person_id IS NOT NULL
                                 AND person_matched IS NOT NULL AND pathway_opened IS NOT NULL)),
    ADD CONSTRAINT referrals_decided_when CHECK (
        (status = 'pending') = (decided_at IS NULL)),
    ADD CONSTRAINT referrals_declined_why CHECK (
        (status = 'declined') = (decline_reason IS NOT NULL));
CREATE INDEX referrals_queue_idx ON referrals (territory_id, status, id);

-- A declined referral has no pathway: its event names none.
ALTER TABLE pathway_events
    ALTER COLUMN pathway_id DROP NOT NULL,
    ADD CONSTRAINT pathway_events_pathway_named CHECK (
        pathway_id IS NOT NULL OR kind = 'referral_declined');
CREATE INDEX pathway_events_unattached_idx ON pathway_events (txid, seq)
    WHERE pathway_id IS NULL;

-- A partner follows a pathway from the moment it was given it: an accepted
-- referral (from its acceptance) or a commitment (from its creation), never
-- earlier, and never a person who objected to sharing.
DROP VIEW partner_pathways CASCADE;
CREATE VIEW partner_pathways AS
SELECT followed.organization_id, followed.pathway_id, min(followed.since) AS since
FROM (
    SELECT r.organization_id, r.pathway_id, r.decided_at AS since
    FROM referrals r WHERE r.status = 'accepted'
    UNION ALL
    SELECT c.organization_id, pl.pathway_id, c.created_at
    FROM commitments c JOIN plans pl ON pl.id = c.plan_id
) AS followed
JOIN pathways p ON p.id = followed.pathway_id
JOIN persons pe ON pe.id = p.person_id
WHERE NOT pe.sharing_objection
GROUP BY followed.organization_id, followed.pathway_id;

-- What a partner may know of an event of a pathway it follows: openings
-- and status changes, and what concerns its own organization.
CREATE OR REPLACE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received',
                     'referral_accepted', 'referral_declined')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;

-- The events each organization may read, from when it may read them: the
-- one definition shared by the feed and the webhook outbox.
CREATE VIEW partner_events AS
SELECT pp.organization_id, e.seq, e.txid
FROM partner_pathways pp
JOIN pathway_events e ON e.pathway_id = pp.pathway_id AND e.occurred_at >= pp.since
WHERE parcours_partner_may_know(e.kind, e.data, pp.organization_id)
UNION ALL
SELECT (e.data->>'organization_id')::uuid, e.seq, e.txid
FROM pathway_events e
WHERE e.pathway_id IS NULL AND e.kind = 'referral_declined';

CREATE OR REPLACE FUNCTION parcours_webhook_outbox() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE active) THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_deliveries (webhook_id, event_seq, event_kind)
    SELECT w.id, e.seq, e.kind
    FROM new_events e
    JOIN partner_events pe ON pe.seq = e.seq
    JOIN webhooks w ON w.organization_id = pe.organization_id
    WHERE w.active AND e.kind::text = ANY (w.event_types);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

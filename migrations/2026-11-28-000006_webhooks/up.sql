-- What partners may follow, and the webhooks that tell them.

-- The pathways each partner organization follows: those it referred and
-- those in whose plan it holds a commitment, never those of a person who
-- objected to sharing. The one definition of a partner's scope: the feed,
-- the partners' pathway view and the webhook outbox all read it.
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

-- Which events a partner may know of: openings and status changes of the
-- pathways it follows, and what concerns its own organization (its
-- commitments, its referrals). Never decisions, plans, meetings or notes.
CREATE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;

-- A referral is written before the pathway it opens, in one transaction,
-- so that the opening event already sees the referring partner.
ALTER TABLE referrals ALTER CONSTRAINT referrals_pathway_id_fkey DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE webhooks (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- Feed event kinds (`status_changed`, ...) the endpoint wants.
    event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
    description text CHECK (length(description) BETWEEN 1 AND 300),
    -- The signing secret, encrypted (AES-256-GCM bound to the webhook id);
    -- during a rotation the previous one also signs until it expires.
    secret_ciphertext bytea NOT NULL,
    previous_secret_ciphertext bytea,
    previous_secret_expires_at timestamptz,
    active boolean NOT NULL DEFAULT true,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);
CREATE INDEX webhooks_organization_idx ON webhooks (organization_id, id);

CREATE TYPE delivery_status AS ENUM ('pending', 'delivered', 'dead', 'cancelled');

-- The outbox: one row per event and webhook, written by the trigger below
-- in the transaction of the event. `next_attempt_at` is also the lease of
-- the instance sending it: a claim moves it past the send's timeout.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    webhook_id uuid NOT NULL REFERENCES webhooks (id),
    event_seq bigint NOT NULL REFERENCES pathway_events (seq),
    event_kind event_kind NOT NULL,
    status delivery_status NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_response_status integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);

-- Queues the events a statement wrote for every webhook that wants them,
-- in the same transaction: an acknowledged change always has its deliveries.
CREATE FUNCTION parcours_webhook_outbox() RETURNS trigger AS $$
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
CREATE TRIGGER webhook_outbox AFTER INSERT ON pathway_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_webhook_outbox();

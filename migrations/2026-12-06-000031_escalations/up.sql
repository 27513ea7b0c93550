-- A critical situation escalated to a named organization (the ARS, the
-- national support cell, …): what was sent (a short summary written for
-- the recipient, never a note), the answer due by a date, then the
-- recipient's acknowledgement and answer, and its closure by the
-- département. The state machine lives in the code (domain::escalation);
-- the table holds each state's shape.
CREATE TYPE escalation_status AS ENUM ('sent', 'acknowledged', 'answered', 'closed');
CREATE TYPE escalation_closure AS ENUM (
    'solution_found', 'no_solution', 'situation_resolved', 'withdrawn'
);
CREATE TABLE escalations (
    id uuid PRIMARY KEY,
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- The pathway's escalation level when it was sent.
    level escalation_level NOT NULL,
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
    due_on date NOT NULL,
    status escalation_status NOT NULL DEFAULT 'sent',
    sent_by uuid NOT NULL REFERENCES users (id),
    sent_at timestamptz NOT NULL DEFAULT now(),
    -- The recipient's partner client, or the staff user who recorded what
    -- the recipient said.
    acknowledged_by uuid,
    acknowledged_at timestamptz,
    answer text CHECK (length(answer) BETWEEN 1 AND 4000),
    answered_by uuid,
    answered_at timestamptz,
    closure escalation_closure,
    closed_by uuid,
    closed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT escalations_acknowledged CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)),
    CONSTRAINT escalations_answered CHECK (
        (answered_at IS NULL) = (answer IS NULL) AND (answered_at IS NULL) = (answered_by IS NULL)),
    CONSTRAINT escalations_closed CHECK (
        (status = 'closed') = (closed_at IS NOT NULL)
        AND (closed_at IS NULL) = (closure IS NULL) AND (closed_at IS NULL) = (closed_by IS NULL)),
    CONSTRAINT escalations_answer_in_state CHECK (
        status IN ('answered', 'closed') OR answered_at IS NULL),
    CONSTRAINT escalations_acknowledged_in_state CHECK (
        status = 'sent' OR acknowledged_at IS NOT NULL OR status = 'closed')
);
SELECT parcours_manage_updated_at('escalations');
-- One open escalation of a pathway per recipient.
CREATE UNIQUE INDEX escalations_open_once ON escalations (pathway_id, organization_id)
    WHERE status <> 'closed';
CREATE INDEX escalations_pathway_idx ON escalations (pathway_id, id);
CREATE INDEX escalations_organization_idx ON escalations (organization_id, id);
-- The overdue alert reads the unanswered escalations in due order.
CREATE INDEX escalations_unanswered_due_idx ON escalations (due_on, id)
    WHERE status IN ('sent', 'acknowledged');

-- The recipient of an escalation follows the pathway from then on, as a
-- facility an orientation is addressed to does.
CREATE OR REPLACE VIEW partner_pathways AS
SELECT followed.organization_id, followed.pathway_id, min(followed.since) AS since
FROM (
    SELECT r.organization_id, r.pathway_id, r.decided_at AS since
    FROM referrals r WHERE r.status = 'accepted'
    UNION ALL
    SELECT c.organization_id, pl.pathway_id, c.created_at
    FROM commitments c JOIN plans pl ON pl.id = c.plan_id
    UNION ALL
    SELECT f.organization_id, f.pathway_id, f.created_at
    FROM facility_follow_ups f
    UNION ALL
    SELECT es.organization_id, es.pathway_id, es.sent_at
    FROM escalations es
) AS followed
JOIN pathways p ON p.id = followed.pathway_id
JOIN persons pe ON pe.id = p.person_id
WHERE NOT pe.sharing_objection
GROUP BY followed.organization_id, followed.pathway_id;

CREATE OR REPLACE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received',
                     'referral_accepted', 'referral_declined', 'facility_notified',
                     'facility_status_changed', 'escalation_sent', 'escalation_status_changed')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;

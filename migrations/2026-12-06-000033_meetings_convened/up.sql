-- A GOS is convened before it is held: planned for a time, with its
-- invitees and the person's prior agreement, then held with its outcome
-- (or cancelled, with why). A meeting recorded once held, as before, is
-- `held` from the start. It may be linked to the plan it builds, a plan of
-- the same pathway. The moves live in the code (domain::meeting).
CREATE TYPE meeting_status AS ENUM ('planned', 'held', 'cancelled');
ALTER TABLE plans ADD CONSTRAINT plans_id_pathway_key UNIQUE (id, pathway_id);
ALTER TABLE meetings
    ADD COLUMN status meeting_status NOT NULL DEFAULT 'held',
    ADD COLUMN planned_at timestamptz,
    ADD COLUMN plan_id uuid,
    ADD COLUMN cancel_reason text CHECK (length(cancel_reason) BETWEEN 1 AND 2000),
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ALTER COLUMN held_on DROP NOT NULL,
    ALTER COLUMN outcome DROP NOT NULL,
    ADD CONSTRAINT meetings_build_a_plan_of_their_pathway
        FOREIGN KEY (plan_id, pathway_id) REFERENCES plans (id, pathway_id),
    ADD CONSTRAINT meetings_held_with_outcome CHECK (
        (status = 'held') = (held_on IS NOT NULL) AND (held_on IS NULL) = (outcome IS NULL)),
    ADD CONSTRAINT meetings_planned_for_a_time CHECK (status <> 'planned' OR planned_at IS NOT NULL),
    ADD CONSTRAINT meetings_cancelled_with_reason CHECK (
        (status = 'cancelled') = (cancel_reason IS NOT NULL));
-- The alert of a GOS whose time passed without its outcome recorded.
CREATE INDEX meetings_planned_idx ON meetings (planned_at, id) WHERE status = 'planned';

-- The organizations invited to a GOS convened here follow the pathway
-- from the invitation on (the invitation reaches them in their feed).
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
    UNION ALL
    SELECT mo.organization_id, m.pathway_id, m.created_at
    FROM meeting_organizations mo JOIN meetings m ON m.id = mo.meeting_id
    WHERE m.planned_at IS NOT NULL
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
        OR (kind IN ('meeting_planned', 'meeting_held', 'meeting_cancelled')
            AND data->'organization_ids' ? organization::text)
$$ LANGUAGE sql IMMUTABLE;

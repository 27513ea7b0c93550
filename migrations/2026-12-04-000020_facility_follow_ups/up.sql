-- What an authority decided: an orientation, a rejection or a deferral
-- (a rejection is not an orientation). Earlier decisions were orientations.
CREATE TYPE decision_kind AS ENUM ('orientation', 'rejection', 'deferral');
ALTER TABLE decisions ADD COLUMN kind decision_kind NOT NULL DEFAULT 'orientation';
-- The day every facility an orientation is addressed to had refused it
-- (the last refusal), null while one may still admit: kept by the code
-- that changes follow-ups (db::facility_follow_ups::refresh_refusals), so
-- that the alert reads the orientations to act on in due order from an
-- index, as the other alerts do, instead of grouping every follow-up.
ALTER TABLE decisions ADD COLUMN facilities_refused_on date;
CREATE INDEX decisions_facilities_refused_idx ON decisions (facilities_refused_on, id)
    WHERE facilities_refused_on IS NOT NULL AND implemented_on IS NULL;

-- Each facility an orientation is addressed to (an organization with a
-- FINESS, and the unit when known), and where the person stands there: a
-- status of TRE_R357 with its reason of TRE_R358, as the ANS guide « suivi
-- des décisions d'orientation » has facilities report them. The value sets
-- live in the code (domain::facility_status); the table checks the shape.
CREATE TABLE facility_follow_ups (
    id uuid PRIMARY KEY,
    decision_id uuid NOT NULL REFERENCES decisions (id),
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    finess text NOT NULL CHECK (finess ~ '^[0-9][0-9AB][0-9]{7}$'),
    unit text CHECK (length(unit) BETWEEN 1 AND 200),
    status text CHECK (status ~ '^[0-9]{1,4}$'),
    reason text CHECK (reason ~ '^[0-9]{1,4}$'),
    status_on date,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT facility_follow_ups_status_dated CHECK ((status IS NULL) = (status_on IS NULL)),
    CONSTRAINT facility_follow_ups_once UNIQUE NULLS NOT DISTINCT (decision_id, organization_id, unit)
);
SELECT parcours_manage_updated_at('facility_follow_ups');
CREATE INDEX facility_follow_ups_decision_idx ON facility_follow_ups (decision_id, id);
CREATE INDEX facility_follow_ups_organization_idx ON facility_follow_ups (organization_id, id);
CREATE INDEX facility_follow_ups_pathway_idx ON facility_follow_ups (pathway_id);

-- Every status a follow-up went through, oldest first: what the indicators
-- of waits and admissions are computed from. Codes and dates only.
CREATE TABLE facility_statuses (
    id uuid PRIMARY KEY,
    follow_up_id uuid NOT NULL REFERENCES facility_follow_ups (id),
    status text NOT NULL CHECK (status ~ '^[0-9]{1,4}$'),
    reason text CHECK (reason ~ '^[0-9]{1,4}$'),
    status_on date NOT NULL,
    -- The user or partner client who reported it.
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX facility_statuses_follow_up_idx ON facility_statuses (follow_up_id, id);
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON facility_statuses
    FOR EACH ROW EXECUTE PROCEDURE parcours_refuse_change();

-- A facility an orientation is addressed to follows the pathway from then
-- on, as a partner given a commitment does.
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
                     'facility_status_changed')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;

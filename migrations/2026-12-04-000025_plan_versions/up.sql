-- What the person agreed to, version by version. A plan's content (its
-- objectives, its commitments) is numbered: the first consent freezes
-- version 1; a change of content after it opens the next version, which
-- needs consent again; the versions consented stay readable.
ALTER TABLE plans
    ADD COLUMN version_number integer NOT NULL DEFAULT 1 CHECK (version_number >= 1),
    ADD COLUMN consented_version_number integer
        CHECK (consented_version_number BETWEEN 1 AND version_number),
    -- What changed since the version consented, until the next consent.
    ADD COLUMN pending_changes text CHECK (length(pending_changes) <= 4000);
-- Plans already consented: their content as it stands is version 1.
UPDATE plans SET consented_version_number = 1 WHERE consented_on IS NOT NULL;

CREATE TABLE plan_versions (
    plan_id uuid NOT NULL REFERENCES plans (id),
    number integer NOT NULL CHECK (number >= 1),
    objectives text,
    -- The commitments standing then: id, organization, terms and status.
    commitments jsonb NOT NULL,
    -- What changed from the version before (none for the first).
    changes text CHECK (length(changes) <= 4000),
    consent_by consent_by NOT NULL,
    consented_on date NOT NULL,
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, number)
);
INSERT INTO plan_versions (plan_id, number, objectives, commitments, consent_by, consented_on,
                           recorded_by, recorded_at)
SELECT pl.id, 1, pl.objectives,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'id', c.id, 'organization_id', c.organization_id,
                     'description', c.description, 'frequency', c.frequency,
                     'due_on', c.due_on, 'status', c.status) ORDER BY c.id)
                 FROM commitments c WHERE c.plan_id = pl.id AND c.status <> 'cancelled'), '[]'),
       pl.consent_by, pl.consented_on, pl.coordinator_id, pl.updated_at
FROM plans pl WHERE pl.consented_on IS NOT NULL AND pl.consent_by IS NOT NULL;

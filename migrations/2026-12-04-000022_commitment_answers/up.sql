-- A new commitment is a proposal; the organization (its partner client, or
-- staff on its behalf) answers it: accepted, or refused with a reason.
-- There is no national list of reasons for refusing a PAG commitment: the
-- codes are local (domain::enums::CommitmentRefusalReason documents them).
ALTER TABLE commitments ALTER COLUMN status SET DEFAULT 'proposed';
CREATE TYPE commitment_refusal_reason AS ENUM (
    'no_capacity', 'outside_mission', 'not_eligible', 'already_supported', 'other'
);
ALTER TABLE commitments
    ADD COLUMN refusal_reason commitment_refusal_reason,
    ADD COLUMN answered_at timestamptz,
    ADD COLUMN answered_by uuid,
    ADD CONSTRAINT commitments_refused_why CHECK ((status = 'refused') = (refusal_reason IS NOT NULL));

-- The commitment indicators read the year's commitment moves from the
-- timeline, whatever its size.
CREATE INDEX pathway_events_commitment_moves_idx ON pathway_events (occurred_at)
    WHERE kind IN ('commitment_added', 'commitment_updated');

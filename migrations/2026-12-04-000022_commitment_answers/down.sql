DROP INDEX pathway_events_commitment_moves_idx;
ALTER TABLE commitments
    DROP CONSTRAINT commitments_refused_why,
    DROP COLUMN refusal_reason,
    DROP COLUMN answered_at,
    DROP COLUMN answered_by;
DROP TYPE commitment_refusal_reason;
ALTER TABLE commitments ALTER COLUMN status SET DEFAULT 'accepted';

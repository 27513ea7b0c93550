-- A commitment is proposed to an organization, which accepts or refuses
-- it; what was `planned` (agreed, not started) is `accepted`. Added alone:
-- new enum values can be used once this transaction committed (000022).
ALTER TYPE commitment_status RENAME VALUE 'planned' TO 'accepted';
ALTER TYPE commitment_status ADD VALUE 'proposed' BEFORE 'accepted';
ALTER TYPE commitment_status ADD VALUE 'refused' AFTER 'accepted';

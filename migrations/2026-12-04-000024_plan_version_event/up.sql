-- The event of a new version of a plan consented to. Added alone: a new
-- enum value can be used once the transaction that adds it has committed.
ALTER TYPE event_kind ADD VALUE 'plan_version_consented';

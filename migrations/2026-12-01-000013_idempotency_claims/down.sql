ALTER TABLE idempotency_keys
    DROP COLUMN resource_id,
    DROP COLUMN resource_type,
    DROP COLUMN committed_at,
    DROP COLUMN claimed_until,
    DROP COLUMN claim;

-- An Idempotency-Key claim never outlives its request: it is a lease that
-- a retry takes over once it has run out (the request that held it died),
-- and the write's own transaction marks the key committed, so that a retry
-- after a lost response learns the outcome instead of running it again.
ALTER TABLE idempotency_keys
    -- Which request holds the key; the write's transaction checks it.
    ADD COLUMN claim uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN claimed_until timestamptz NOT NULL DEFAULT now(),
    -- Set in the write's own transaction, with what it changed.
    ADD COLUMN committed_at timestamptz,
    ADD COLUMN resource_type text CHECK (length(resource_type) BETWEEN 1 AND 64),
    ADD COLUMN resource_id uuid;

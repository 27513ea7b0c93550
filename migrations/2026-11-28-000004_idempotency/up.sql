-- Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header): one row
-- per caller and key. While the first request runs the row has no status;
-- then it holds the response, replayed to every retry until it expires.
CREATE TABLE idempotency_keys (
    subject_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint bytea NOT NULL,
    status smallint CHECK (status BETWEEN 100 AND 599),
    content_type text,
    location text,
    etag text,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (subject_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

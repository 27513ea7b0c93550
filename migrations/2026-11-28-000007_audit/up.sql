-- The audit trail: who did or saw what, append-only and tamper-evident.

CREATE TYPE audit_outcome AS ENUM ('success', 'denied', 'not_found', 'invalid', 'failed');

CREATE TABLE audit_log (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    -- The writing transaction: records are sealed in (txid, seq) order,
    -- and only once no older transaction is running (see audit_seals).
    txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'client', 'anonymous', 'system')),
    actor_id uuid,
    actor_role role,
    action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    resource_type text CHECK (length(resource_type) BETWEEN 1 AND 100),
    resource_id uuid,
    -- For a list or search: its parameters, and the ids it returned.
    query jsonb,
    result_ids uuid[],
    outcome audit_outcome NOT NULL,
    request_id text CHECK (length(request_id) <= 200),
    source_address text CHECK (length(source_address) <= 100),
    user_agent text CHECK (length(user_agent) <= 500),
    purpose text CHECK (length(purpose) <= 500)
);
CREATE INDEX audit_log_seal_order_idx ON audit_log (txid, seq);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_id, seq);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at, seq);

-- The chain: one link per sealed record, in sealing order;
-- hash = SHA-256(previous link's hash ‖ the record's canonical form).
-- No foreign key: a removed record must show as a dangling link.
CREATE TABLE audit_chain (
    position bigint PRIMARY KEY CHECK (position > 0),
    record_seq bigint NOT NULL UNIQUE,
    hash bytea NOT NULL CHECK (length(hash) = 32)
);

-- Each seal signs (Ed25519) the chain's hash at its last link. Sealing
-- runs behind the requests, so that no request waits on a chain lock.
CREATE TABLE audit_seals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    upto_position bigint NOT NULL,
    upto_txid bigint NOT NULL,
    upto_seq bigint NOT NULL,
    -- pg_snapshot_xmin when sealed: every record of an older transaction
    -- was sealed by then; one found later was inserted out of place.
    horizon bigint NOT NULL,
    hash bytea NOT NULL CHECK (length(hash) = 32),
    signature bytea NOT NULL CHECK (length(signature) = 64),
    key_id text NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();

-- Where the deployment runs the API under its own role (not the owner),
-- also take the privileges away:
--   REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_chain, audit_seals FROM parcours_api;

DROP TABLE audit_verifications;

ALTER TABLE audit_log RENAME TO audit_log_partitioned;
ALTER INDEX audit_log_pkey RENAME TO audit_log_partitioned_pkey;
ALTER SEQUENCE audit_log_seq_seq RENAME TO audit_log_partitioned_seq_seq;
DROP INDEX audit_log_seal_order_idx, audit_log_actor_idx, audit_log_resource_idx,
    audit_log_occurred_idx;
ALTER TABLE audit_log_partitioned
    DROP CONSTRAINT audit_log_actor_kind_check,
    DROP CONSTRAINT audit_log_action_check,
    DROP CONSTRAINT audit_log_resource_type_check,
    DROP CONSTRAINT audit_log_request_id_check,
    DROP CONSTRAINT audit_log_source_address_check,
    DROP CONSTRAINT audit_log_user_agent_check,
    DROP CONSTRAINT audit_log_purpose_check;

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
INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM audit_log_partitioned;
SELECT setval(pg_get_serial_sequence('audit_log', 'seq'),
              coalesce((SELECT max(seq) FROM audit_log), 0) + 1, false);
DROP TABLE audit_log_partitioned;
DROP FUNCTION parcours_audit_log_prepare_months();
DROP FUNCTION parcours_audit_log_add_month(date);

CREATE INDEX audit_log_seal_order_idx ON audit_log (txid, seq);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_id, seq);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at, seq);
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();

-- The audit trail by month: `audit_log` becomes a table partitioned by
-- `occurred_at`, one partition a calendar month (UTC), so that a period's
-- queries and exports read only their months and a year's records can
-- later be archived as whole tables. Records, their `seq`, the hash chain
-- and the seals are unchanged: every record is copied as it is.

-- The table before, out of the way (its other indexes are rebuilt below).
ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
ALTER INDEX audit_log_pkey RENAME TO audit_log_unpartitioned_pkey;
ALTER SEQUENCE audit_log_seq_seq RENAME TO audit_log_unpartitioned_seq_seq;
DROP INDEX audit_log_seal_order_idx, audit_log_actor_idx, audit_log_resource_idx,
    audit_log_occurred_idx;
-- (constraint names are chosen unique in the schema: free them too)
ALTER TABLE audit_log_unpartitioned
    DROP CONSTRAINT audit_log_actor_kind_check,
    DROP CONSTRAINT audit_log_action_check,
    DROP CONSTRAINT audit_log_resource_type_check,
    DROP CONSTRAINT audit_log_request_id_check,
    DROP CONSTRAINT audit_log_source_address_check,
    DROP CONSTRAINT audit_log_user_agent_check,
    DROP CONSTRAINT audit_log_purpose_check;

CREATE TABLE audit_log (
    -- Unique: one sequence numbers every record (a partitioned table's
    -- primary key must hold the partition key as well).
    seq bigint GENERATED ALWAYS AS IDENTITY,
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
    purpose text CHECK (length(purpose) <= 500),
    PRIMARY KEY (seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX audit_log_seal_order_idx ON audit_log (txid, seq);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_id, seq);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at, seq);

-- Append-only: these row triggers are cloned onto every partition; a
-- TRUNCATE of one partition does not fire its parent's, so each partition
-- gets its own (parcours_audit_log_add_month).
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();

-- A record of a month with no partition yet lands here rather than fail
-- its request; that month's partition is then never created (its rows
-- cannot move without being deleted) and the month is read from here.
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();

-- Adds the partition of the month holding `day` (UTC), unless it exists
-- or the default partition already holds records of that month. Created
-- aside then attached: ATTACH takes a SHARE UPDATE EXCLUSIVE lock on
-- audit_log, which lets every request insert and read meanwhile.
CREATE FUNCTION parcours_audit_log_add_month(day date) RETURNS boolean
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    first_day date := date_trunc('month', day)::date;
    low timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    high timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    name text := 'audit_log_' || to_char(first_day, 'YYYY_MM');
BEGIN
    IF to_regclass(name) IS NOT NULL
       OR EXISTS (SELECT 1 FROM audit_log_default WHERE occurred_at >= low AND occurred_at < high)
    THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change()', name);
    EXECUTE format('ALTER TABLE audit_log ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   name, low, high);
    RETURN true;
END $$;
REVOKE EXECUTE ON FUNCTION parcours_audit_log_add_month(date) FROM PUBLIC;

-- What each instance calls (every hour, and at start): this month's
-- partition and the next two. It runs as the tables' owner, so an API
-- role with no DDL (`parcours grant-api`) can call it; it takes nothing
-- from its caller. A lock held elsewhere makes it give up for this time
-- (lock_timeout) rather than queue requests behind it.
CREATE FUNCTION parcours_audit_log_prepare_months() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
SET lock_timeout = '2s' AS $$
DECLARE
    this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    added integer := 0;
BEGIN
    FOR i IN 0..2 LOOP
        IF parcours_audit_log_add_month((this_month + make_interval(months => i))::date) THEN
            added := added + 1;
        END IF;
    END LOOP;
    RETURN added;
END $$;

-- The months that hold records, up to two months ahead; then the records.
SELECT parcours_audit_log_add_month(month::date)
FROM generate_series(
    date_trunc('month', coalesce((SELECT min(occurred_at) FROM audit_log_unpartitioned), now())
                        AT TIME ZONE 'UTC'),
    date_trunc('month', greatest(coalesce((SELECT max(occurred_at) FROM audit_log_unpartitioned), now()),
                                 now()) AT TIME ZONE 'UTC') + interval '2 months',
    interval '1 month') AS month;

INSERT INTO audit_log OVERRIDING SYSTEM VALUE SELECT * FROM audit_log_unpartitioned;
SELECT setval(pg_get_serial_sequence('audit_log', 'seq'),
              coalesce((SELECT max(seq) FROM audit_log), 0) + 1, false);
DROP TABLE audit_log_unpartitioned;

-- Verifications: each run of `parcours audit verify` (or GET
-- /v1/audit/verify) and how far it went, so that the next can start from
-- the last intact one instead of from the first record.
CREATE TABLE audit_verifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verified_at timestamptz NOT NULL DEFAULT now(),
    -- Whether it recomputed the whole chain (else from `from_position`).
    full_check boolean NOT NULL,
    from_position bigint NOT NULL CHECK (from_position >= 0),
    -- The last seal it checked, and that seal's link.
    upto_seal_id bigint,
    upto_position bigint NOT NULL CHECK (upto_position >= from_position),
    -- Every record numbered up to this one is linked in the chain: the
    -- next run looks for records inserted out of place only after it.
    linked_upto_seq bigint NOT NULL,
    records_checked bigint NOT NULL CHECK (records_checked >= 0),
    intact boolean NOT NULL
);
CREATE INDEX audit_verifications_intact_idx ON audit_verifications (id) WHERE intact;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_verifications
    FOR EACH ROW EXECUTE FUNCTION parcours_refuse_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_verifications
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_refuse_change();

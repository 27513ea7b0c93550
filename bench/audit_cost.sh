#!/usr/bin/env bash
# What does auditing a read cost? On a seeded database, for the same
# duration, each measure against a reference taken in the same run:
#
# Through the API: GET /v1/pathways/{id} with wrk, as served, against the
# same server and request while a trigger drops the read records before
# they are written (BEFORE INSERT ... RETURN NULL: the statement, its
# planning and its round trip are the same; the row write and the WAL flush
# at commit are what is left out).
#
# On the database (pgbench, the statements the API sends):
#   read      — the scoped read of one pathway and its status history alone;
#   audited   — the read and its record in one statement (src/db/audited.rs);
#   two_stmts — the read, then the insert of its record;
#   audited_flat — `audited` writing into one plain table shaped as
#              audit_log, against the table partitioned by month (these two
#              three times each, alternated, and their medians).
#
#   bench/audit_cost.sh     (needs wrk, pgbench, psql; PERSONS=20000 by default,
#                            CLIENTS="1 16" connections, SECONDS_PER_RUN=10,
#                            ROUNDS=3 alternated runs of by month / one table)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
persons="${PERSONS:-20000}"
seconds="${SECONDS_PER_RUN:-10}"
clients="${CLIENTS:-1 16}"
rounds="${ROUNDS:-3}"
port=18082
db="parcours_audit_bench_$$"
work="$(mktemp -d)"
cargo build --release --quiet
psql "$server/postgres" -q -c "CREATE DATABASE $db"
export DATABASE_URL="$server/$db" PARCOURS_LOG=warn PARCOURS_DATA_DIR="$work" \
       PARCOURS_BIND="127.0.0.1:$port" PARCOURS_TOKEN_RATE_PER_MINUTE=100000000
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    rm -rf "$work"
}
trap cleanup EXIT
./target/release/parcours seed-demo --persons "$persons" >/dev/null

territory=$(psql "$DATABASE_URL" -Atc "SELECT id FROM territories WHERE code = '05-GAP'")
pathway=$(psql "$DATABASE_URL" -Atc \
    "SELECT id FROM pathways WHERE territory_id = '$territory' ORDER BY id LIMIT 1 OFFSET 100")
actor=$(psql "$DATABASE_URL" -Atc "SELECT uuid_generate_v7()")

# --- Through the API ------------------------------------------------------
start_server "$port"
email="bench.$$@hautes-alpes.example"
bench_user "$email" --role supervisor --territory 05-GAP \
    --domain disability --domain elderly --domain childhood --domain insertion
token=$(token_of "$port" "$email")
url="http://127.0.0.1:$port/v1/pathways/$pathway"
curl -sf "$url" -H "Authorization: Bearer $token" >/dev/null

drop_reads_on() {
    psql "$DATABASE_URL" -q <<'SQL'
CREATE FUNCTION bench_drop_read_records() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER bench_drop_read_records BEFORE INSERT ON audit_log
    FOR EACH ROW WHEN (NEW.action = 'read') EXECUTE FUNCTION bench_drop_read_records();
SQL
}
drop_reads_off() {
    psql "$DATABASE_URL" -q -c "DROP TRIGGER bench_drop_read_records ON audit_log" \
        -c "DROP FUNCTION bench_drop_read_records()"
}
reads() { psql "$DATABASE_URL" -Atc "SELECT count(*) FROM audit_log WHERE action = 'read'"; }
rps() { awk '/Requests\/sec/ { print $2 }' "$1"; }
p50() { awk '$1 == "50%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f }' "$1"; }
non2xx() { awk '/Non-2xx/ { n = $5 } END { print n + 0 }' "$1"; }

echo "GET /v1/pathways/{id} ($persons persons seeded, $seconds s per run)"
printf '%-8s %-28s %10s %10s %8s\n' clients run "req/s" "p50 ms" "non-2xx"
for c in $clients; do
    threads=$(( c < 2 ? 1 : 2 ))
    drop_reads_on
    before=$(reads)
    wrk -t"$threads" -c"$c" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url" > "$work/ref.txt"
    [ "$(reads)" = "$before" ] || { echo "the reference wrote read records" >&2; exit 1; }
    drop_reads_off
    before=$(reads)
    wrk -t"$threads" -c"$c" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url" > "$work/api.txt"
    written=$(( $(reads) - before ))
    printf '%-8s %-28s %10s %10s %8s\n' "$c" "reference (record dropped)" "$(rps "$work/ref.txt")" \
        "$(p50 "$work/ref.txt")" "$(non2xx "$work/ref.txt")"
    printf '%-8s %-28s %10s %10s %8s\n' "$c" "audited (as served)" "$(rps "$work/api.txt")" \
        "$(p50 "$work/api.txt")" "$(non2xx "$work/api.txt")"
    served=$(awk '/requests in/ { print $1 }' "$work/api.txt")
    eval "api_rps_$c=$(rps "$work/api.txt")"
    printf '         audited/reference: %.2fx the time per read (throughput); records written %s for %s requests\n' \
        "$(echo "$(rps "$work/ref.txt") / $(rps "$work/api.txt")" | bc -l)" "$written" "$served"
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# --- On the database ------------------------------------------------------
# The statement the API sends (db::pathways::find_with_history): the row
# with its status history as one JSON column, scoped, and its record.
scope="territory_id = ANY('{$territory}'::uuid[]) AND domain = ANY('{disability,elderly,childhood,insertion}'::domain[])"
history="(SELECT coalesce(jsonb_agg(jsonb_build_object('status', s.status, 'started_at', s.started_at, \
'ended_at', s.ended_at, 'reason', s.reason) ORDER BY s.id), '[]'::jsonb) FROM pathway_status_periods s \
WHERE s.pathway_id = pathways.id)"
cat > "$work/read.sql" <<SQL
SELECT *, $history FROM pathways WHERE id = '$pathway' AND $scope;
SQL
cat > "$work/audited.sql" <<SQL
WITH read AS (SELECT *, $history FROM pathways WHERE id = '$pathway' AND $scope),
logged AS (INSERT INTO audit_log (actor_kind, actor_id, actor_role, action, resource_type,
    resource_id, query, request_id, source_address, user_agent, purpose, outcome, result_ids)
  SELECT 'user', '$actor', 'supervisor', 'read', 'pathway', '$pathway', NULL,
    '0192f5a0-7c1e-7c3a-9d2b-5f0e8a1b2c3d', '127.0.0.1', 'front-rapt/2.1', NULL,
    CASE WHEN EXISTS (SELECT 1 FROM read) THEN 'success'::audit_outcome
         ELSE 'not_found'::audit_outcome END, NULL::uuid[])
SELECT * FROM read;
SQL
# The same statement writing into one plain table shaped as audit_log (its
# columns, defaults, identity, indexes): what partitioning by month costs.
psql "$DATABASE_URL" -q -c "CREATE TABLE bench_audit_flat (LIKE audit_log INCLUDING ALL)"
sed 's/INSERT INTO audit_log/INSERT INTO bench_audit_flat/' "$work/audited.sql" > "$work/audited_flat.sql"
cat "$work/read.sql" > "$work/two_stmts.sql"
cat >> "$work/two_stmts.sql" <<SQL
INSERT INTO audit_log (actor_kind, actor_id, actor_role, action, resource_type, resource_id,
    outcome, request_id, source_address, user_agent, purpose)
VALUES ('user', '$actor', 'supervisor', 'read', 'pathway', '$pathway', 'success',
    '0192f5a0-7c1e-7c3a-9d2b-5f0e8a1b2c3d', '127.0.0.1', 'front-rapt/2.1', NULL);
SQL
echo
echo "On the database (pgbench, prepared statements)"
printf '%-8s %-10s %10s\n' clients run tps
tps_of() { # tps_of CLIENTS SCRIPT
    pgbench -n -M prepared -c "$1" -j "$(( $1 < 2 ? 1 : 2 ))" -T "$seconds" \
        -f "$work/$2.sql" "$DATABASE_URL" 2>/dev/null | awk '/^tps/ {print int($3)}'
}
for c in $clients; do
    for run in read two_stmts; do
        tps=$(tps_of "$c" "$run")
        printf '%-8s %-10s %10s\n' "$c" "$run" "$tps"
        eval "tps_$run=$tps"
    done
    # By month against one plain table: each bound by its commits' WAL
    # flush, which this machine's disk makes vary from run to run, so
    # ROUNDS (3) alternated runs of each and the median.
    by_month=() flat=()
    for _ in $(seq 1 "$rounds"); do
        by_month+=("$(tps_of "$c" audited)")
        flat+=("$(tps_of "$c" audited_flat)")
    done
    tps_audited=$(median "${by_month[@]}") tps_audited_flat=$(median "${flat[@]}")
    printf '%-8s %-10s %10s   (runs: %s)\n' "$c" audited "$tps_audited" "${by_month[*]}"
    printf '%-8s %-10s %10s   (runs: %s)\n' "$c" audited_flat "$tps_audited_flat" "${flat[*]}"
    eval "api=\$api_rps_$c"
    table_row "GET /v1/pathways/{id} audited, $c connection(s) (req/s)" "$api" \
        "$tps_audited pgbench same statement" "$(printf '%.2f' "$(echo "$api / $tps_audited" | bc -l)")" "≥ 0.6"
    table_row "read+record into audit_log by month, $c connection(s) (tps)" "$tps_audited" \
        "$tps_audited_flat into one plain table" "$(printf '%.2f' "$(echo "$tps_audited / $tps_audited_flat" | bc -l)")" "≥ 0.95"
    printf '         audited/read: %.2fx the time per read; two statements/one: %.2fx; by month/one table: %.2fx the time\n' \
        "$(echo "$tps_read / $tps_audited" | bc -l)" "$(echo "$tps_audited / $tps_two_stmts" | bc -l)" \
        "$(echo "$tps_audited_flat / $tps_audited" | bc -l)"
done

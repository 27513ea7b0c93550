#!/usr/bin/env bash
# How fast is the audit trail verified, and what does a period read? On
# RECORDS audit records spread over the last 12 months (one partition a
# month), sealed by the server:
#   - `parcours audit verify --full`: records/s, against psql reading the
#     same records in the same order (`\copy (… ORDER BY seq) to /dev/null`),
#     the bare cost of reading them;
#   - the sealing rate (records/s the server links and signs);
#   - `parcours audit verify` (incremental) after 1 % more records: its
#     time against the full verification's;
#   - the EXPLAIN (ANALYZE, BUFFERS) of a one-month audit export.
#
#   bench/audit_verify.sh    (RECORDS=10000000 by default, about 15 min here;
#                             QUICK=1 or RECORDS=200000 for a check)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
records="${RECORDS:-10000000}"
[ -n "${QUICK:-}" ] && records="${RECORDS_QUICK:-200000}"
cargo build --release --quiet
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
db="parcours_verify_bench_$$"; drop=1
work="$(mktemp -d)"
export DATABASE_URL="$server/$db" PARCOURS_BIND=127.0.0.1:18086 PARCOURS_LOG=warn \
       PARCOURS_DATA_DIR="$work"
psql "$server/postgres" -q -c "CREATE DATABASE $db"
trap bench_cleanup EXIT
./target/release/parcours migrate >/dev/null
export PARCOURS_AUDIT_SEAL_MS=100

psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
    PERFORM parcours_audit_log_add_month((date_trunc('month', now()) - make_interval(months => m))::date)
    FROM generate_series(1, 12) AS m;
END \$\$;
-- One year of reads, oldest first (occurred_at grows with seq, as in life).
INSERT INTO audit_log (occurred_at, actor_kind, actor_id, actor_role, action, resource_type,
                       resource_id, outcome, request_id, source_address, user_agent)
SELECT now() - interval '365 days' + (i * (interval '365 days' / $records)),
       'user', ('00000000-0000-7000-8000-' || lpad(to_hex(i % 400), 12, '0'))::uuid,
       'coordinator', 'read', 'pathway', gen_random_uuid(), 'success',
       'bench-' || i, '10.0.0.' || (i % 250), 'Mozilla/5.0 (bench)'
FROM generate_series(1, $records) AS i;
VACUUM (ANALYZE) audit_log;
SQL
echo "$records records written over 12 months"

sealed() { psql "$DATABASE_URL" -Atc "SELECT coalesce(max(position), 0) FROM audit_chain"; }
wait_sealed() {  # wait_sealed N: until N links
    while [ "$(sealed)" -lt "$1" ]; do sleep 1; done
}
started=$(date +%s.%N)
start_server 18086
wait_sealed "$records"
seal_s=$(echo "$(date +%s.%N) - $started" | bc)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
seal_rate=$(echo "$records / $seal_s" | bc)
echo "sealed in $seal_s s: $seal_rate records/s"

elapsed() { local t0; t0=$(date +%s.%N); "$@" > "$work/out.json"; echo "$(date +%s.%N) - $t0" | bc; }
copy_s=$(elapsed psql "$DATABASE_URL" -q -c "\\copy (SELECT * FROM audit_log ORDER BY seq) to /dev/null")
full_s=$(elapsed ./target/release/parcours audit verify --full)
grep -q '"intact": true' "$work/out.json" || { cat "$work/out.json"; exit 1; }
checked=$(sed -n 's/.*"records_checked": \([0-9]*\).*/\1/p' "$work/out.json")
full_rate=$(echo "$checked / $full_s" | bc)
copy_rate=$(echo "$records / $copy_s" | bc)
echo "verify --full: $checked records in $full_s s: $full_rate records/s"
echo "psql \\copy of the same records: $copy_s s: $copy_rate records/s"

more=$(( records / 100 ))
psql "$DATABASE_URL" -q -c "INSERT INTO audit_log (actor_kind, action, resource_type, resource_id, outcome)
    SELECT 'user', 'read', 'pathway', gen_random_uuid(), 'success' FROM generate_series(1, $more)"
start_server 18086
wait_sealed $(( records + more ))
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
incr_s=$(elapsed ./target/release/parcours audit verify)
grep -q '"intact": true' "$work/out.json" || { cat "$work/out.json"; exit 1; }
incr_checked=$(sed -n 's/.*"records_checked": \([0-9]*\).*/\1/p' "$work/out.json")
echo "verify (incremental): $incr_checked records in $incr_s s"

month_from=$(psql "$DATABASE_URL" -Atc "SELECT to_char(date_trunc('month', now()) - interval '6 months', 'YYYY-MM-DD')")
month_to=$(psql "$DATABASE_URL" -Atc "SELECT to_char(date_trunc('month', now()) - interval '5 months', 'YYYY-MM-DD')")
echo "EXPLAIN (ANALYZE, BUFFERS) of the audit export from $month_from to $month_to:"
sql=$(sed -n '/^pub const AUDIT_SQL/,/ORDER BY seq";/p' src/db/exports.rs | sed '1s/.*"\\//; $s/";$//')
psql "$DATABASE_URL" -c "PREPARE export(timestamptz, timestamptz) AS $sql" \
    -c "EXPLAIN (ANALYZE, BUFFERS) EXECUTE export('$month_from', '$month_to')"

ratio() { echo "scale=2; $1 / $2" | bc; }
table_row "audit verify --full, records/s ($records records)" "$full_rate" "$copy_rate (psql \\copy)" "$(ratio "$full_rate" "$copy_rate")" "measured"
table_row "audit verify incremental (+1 %), s" "$incr_s" "$full_s (--full)" "$(ratio "$incr_s" "$full_s")" "≪ 1"
table_row "audit sealing, records/s" "$seal_rate" "$copy_rate (psql \\copy)" "$(ratio "$seal_rate" "$copy_rate")" "measured"

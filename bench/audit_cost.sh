#!/usr/bin/env bash
# What does auditing a read cost the database? On a seeded database, pgbench
# runs, for the same duration and clients:
#   read   — the scoped read of one pathway, as GET /v1/pathways/{id} runs it;
#   audit  — the insert of its audit record;
#   both   — the read then the insert, two statements, as the API sends them.
# The ratio both/read is what auditing costs a read on the database side.
#
#   bench/audit_cost.sh          (needs pgbench, psql; PERSONS=20000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
persons="${PERSONS:-20000}"
seconds="${SECONDS_PER_RUN:-10}"
clients="${CLIENTS:-4}"
db="parcours_audit_bench_$$"
work="$(mktemp -d)"
cargo build --release --quiet
psql "$server/postgres" -q -c "CREATE DATABASE $db"
trap 'psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"' EXIT
export DATABASE_URL="$server/$db" PARCOURS_LOG=warn PARCOURS_DATA_DIR="$work"
./target/release/parcours seed-demo --persons "$persons" >/dev/null

read -r pathway territory domain <<< "$(psql "$DATABASE_URL" -Atc \
    "SELECT id, territory_id, domain FROM pathways ORDER BY id LIMIT 1 OFFSET 1000" | tr '|' ' ')"
actor=$(psql "$DATABASE_URL" -Atc "SELECT uuid_generate_v7()")
cat > "$work/read.sql" <<SQL
SELECT * FROM pathways WHERE id = '$pathway'
  AND territory_id = ANY('{$territory}'::uuid[]) AND domain = ANY('{$domain}'::domain[]);
SQL
cat > "$work/audit.sql" <<SQL
INSERT INTO audit_log (actor_kind, actor_id, actor_role, action, resource_type, resource_id,
    outcome, request_id, source_address, user_agent, purpose)
VALUES ('user', '$actor', 'supervisor', 'read', 'pathway', '$pathway', 'success',
    '0192f5a0-7c1e-7c3a-9d2b-5f0e8a1b2c3d', '127.0.0.1', 'front-rapt/2.1', NULL);
SQL
cat "$work/read.sql" "$work/audit.sql" > "$work/both.sql"
cp "$work/both.sql" "$work/both_async.sql"
for run in read audit both both_async; do
    options=""
    # The read's record committed without waiting for the WAL flush.
    [ "$run" = both_async ] && options="-c synchronous_commit=off"
    tps=$(PGOPTIONS="$options" pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" -f "$work/$run.sql" \
        "$DATABASE_URL" 2>/dev/null | awk '/^tps/ {print int($3)}')
    latency=$(echo "scale=3; 1000 * $clients / $tps" | bc)
    printf '%-6s %8d tps   %6s ms per transaction\n' "$run" "$tps" "$latency"
    eval "tps_$run=$tps"
done
printf 'read+audit / read: %.2f of the throughput (%.2fx the time per read)\n' \
    "$(echo "$tps_both / $tps_read" | bc -l)" "$(echo "$tps_read / $tps_both" | bc -l)"
printf 'with the record committed asynchronously: %.2fx the time per read\n' \
    "$(echo "$tps_read / $tps_both_async" | bc -l)"

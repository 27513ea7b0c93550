#!/usr/bin/env bash
# How fast is a caseload list on a realistic volume? Seeds ~1 million
# pathways with `parcours seed-demo` (or reuses BENCH_DB), then measures
#   GET /v1/pathways?territory=<Gapençais>&status=<status>&limit=50
# as a supervisor of that territory, against two references measured in the
# same run: GET /health (the HTTP floor) and pgbench running the statement
# the API sends (the page and its audit record) directly on PostgreSQL (the
# database floor); also pgbench on the page alone, to show what the record
# costs. Prints the page's EXPLAIN ANALYZE.
#
#   bench/pathways_list.sh                    (needs wrk, pgbench, psql)
#   PERSONS=100000 bench/pathways_list.sh     (a smaller volume)
#   BENCH_DB=demo1m bench/pathways_list.sh    (reuse a seeded database)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
persons="${PERSONS:-900000}"
status="${STATUS:-without_solution}"
seconds="${SECONDS_PER_RUN:-10}"
port=18081

cargo build --release --quiet
bench_database "$port" "$persons"

start_server "$port"
email="bench.$$@hautes-alpes.example"
bench_user "$email" --role supervisor --territory 05-GAP \
    --domain disability --domain elderly --domain childhood --domain insertion
token=$(token_of "$port" "$email")
territory=$(psql "$DATABASE_URL" -Atc "SELECT id FROM territories WHERE code = '05-GAP'")
url="http://127.0.0.1:$port/v1/pathways?territory=$territory&status=$status&limit=50"
total=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pathways")
matching=$(psql "$DATABASE_URL" -Atc \
    "SELECT count(*) FROM pathways WHERE territory_id = '$territory' AND status = '$status'")
items=$(curl -sf "$url" -H "Authorization: Bearer $token" | grep -o '"person_id"' | wc -l)

# The statement the API sends (diesel's, with the caller's scope bound):
# the page and its audit record, in one statement. select.sql is the page
# alone, to show what the record costs.
actor=$(psql "$DATABASE_URL" -Atc "SELECT id FROM users WHERE email = '$email'")
cat > "$work/select.sql" <<SQL
SELECT id, person_id, domain, territory_id, referent_id, status, status_since, opened_on,
       closed_on, closure_reason, critical_level, critical_reason, critical_since, version,
       created_at, updated_at, continues_from, continuation_reason
FROM pathways
WHERE territory_id = ANY('{$territory}'::uuid[])
  AND domain = ANY('{disability,elderly,childhood,insertion}'::domain[])
  AND status = '$status' AND territory_id = '$territory'
ORDER BY id LIMIT 51
SQL
cat > "$work/list.sql" <<SQL
WITH read AS ($(cat "$work/select.sql")),
logged AS (INSERT INTO audit_log (actor_kind, actor_id, actor_role, action, resource_type,
    resource_id, query, request_id, source_address, user_agent, purpose, outcome, result_ids)
  SELECT 'user', '$actor', 'supervisor', 'list', 'pathway', NULL,
    '{"territory": "$territory", "status": "$status"}', '0192f5a0-7c1e-7c3a-9d2b-5f0e8a1b2c3d',
    '127.0.0.1', 'front-rapt/2.1', NULL, 'success',
    (SELECT coalesce(array_agg(id ORDER BY first), '{}') FROM (SELECT id, min(n) AS first
       FROM (SELECT id, row_number() OVER () AS n FROM read LIMIT 50) page GROUP BY id) ids))
SELECT * FROM read;
SQL

# Requests (or transactions) per second and p99 in ms from a wrk report.
rps() { awk '/Requests\/sec/ { print $2 }' "$1"; }
p99() { awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f }' "$1"; }

wrk -t2 -c8 -d"${seconds}s" --latency "http://127.0.0.1:$port/health" > "$work/health.txt"
wrk -t2 -c8 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url" > "$work/list.txt"
pgbench -n -M prepared -c8 -j2 -T"$seconds" -f "$work/list.sql" "$DATABASE_URL" \
    > "$work/pgbench.txt" 2>&1
tps=$(awk '/^tps/ { print $3; exit }' "$work/pgbench.txt")
(echo "$(cat "$work/select.sql");") > "$work/select_only.sql"
pgbench -n -M prepared -c8 -j2 -T"$seconds" -f "$work/select_only.sql" "$DATABASE_URL" \
    > "$work/pgbench_select.txt" 2>&1
select_tps=$(awk '/^tps/ { print $3; exit }' "$work/pgbench_select.txt")
non2xx=$(awk '/Non-2xx/ { print $5 }' "$work/list.txt")

echo "pathways in the database:              $total ($matching in 05-GAP with status $status)"
echo "items on the first page:               $items"
echo "GET /health:                           $(rps "$work/health.txt") req/s, p99 $(p99 "$work/health.txt") ms"
echo "GET /v1/pathways (territory, status):  $(rps "$work/list.txt") req/s, p99 $(p99 "$work/list.txt") ms (non-2xx: ${non2xx:-0})"
echo "pgbench, same statement (page+record): $tps tps"
echo "pgbench, the page alone (no record):   $select_tps tps"
ratio=$(awk -v a="$(rps "$work/list.txt")" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')
echo "API / pgbench throughput (target ≥ 0.5): $ratio"
table_row "GET /v1/pathways?territory&status, $total pathways (req/s)" "$(rps "$work/list.txt")" \
    "$tps pgbench" "$ratio" "≥ 0.5"
echo
echo "EXPLAIN (ANALYZE, BUFFERS) of the page (the statement without its record):"
psql "$DATABASE_URL" -c "EXPLAIN (ANALYZE, BUFFERS) $(cat "$work/select.sql")"

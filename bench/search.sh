#!/usr/bin/env bash
# How fast is a fuzzy name search on a département's worth of persons?
# Seeds PERSONS persons with `parcours seed-demo` (or reuses BENCH_DB),
# then, for each kind of query (one exact family name, one with a typo,
# family and given name, both with accents dropped, a beginning), measures
# POST /v1/persons/search {"q": …} one request at a time, as a supervisor
# of every territory (the widest scope, the most candidates), and reports
# its p95. The reference, measured in the same run on the same database,
# is the statement the search ran before the name words (a trigram match
# over whole names, ordered by similarity), timed by pgbench; the target
# is a p95 of 20 ms. Prints EXPLAIN (ANALYZE, BUFFERS) of each search.
#
#   bench/search.sh                          (needs wrk, pgbench, psql)
#   PERSONS=3000 SECONDS_PER_RUN=3 bench/search.sh   (a quick check)
#   BENCH_DB=demo1m bench/search.sh          (reuse a seeded database)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
persons="${PERSONS:-1000000}"
seconds="${SECONDS_PER_RUN:-10}"
port=18084

cargo build --release --quiet
bench_database "$port" "$persons"

start_server "$port"
email="bench.search.$$@hautes-alpes.example"
territories=$(psql "$DATABASE_URL" -Atc "SELECT string_agg('--territory ' || code, ' ') FROM territories")
# shellcheck disable=SC2086 # one flag per territory
bench_user "$email" --role supervisor $territories --domain disability
token=$(token_of "$port" "$email")
scope=$(psql "$DATABASE_URL" -Atc "SELECT '{' || string_agg(id::text, ',') || '}' FROM territories")
total=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM persons")
top=$(psql "$DATABASE_URL" -Atc \
    "SELECT family_name || ' (' || round(100.0 * count(*) / sum(count(*)) OVER (), 2) || ' %)' \
     FROM persons GROUP BY family_name ORDER BY count(*) DESC LIMIT 1")
echo "persons in the database: $total; commonest family name: $top"

# wrk: one connection, one request at a time; prints p95 in ms and the
# count of non-2xx answers.
cat > "$work/search.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("SEARCH_BODY")
local bad = 0
response = function(status) if status ~= 200 then bad = bad + 1 end end
done = function(summary, latency)
    io.write(string.format("p95_ms %.3f\nrequests %d\nnon2xx %d\n",
        latency:percentile(95) / 1000, summary.requests, bad))
end
LUA

# p95 in ms of pgbench's per-transaction log (latency in µs, column 3).
pgbench_p95() {
    cat "$1".* | awk '{ print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END { i = int(NR * 0.95); if (i < 1) i = 1; printf "%.3f", v[i] / 1000 }'
}

for q in "dupont" "dupnt" "martin jean" "lefebvre helene" "mar"; do
    body="{\"q\": \"$q\"}"
    found=$(curl -sf "http://127.0.0.1:$port/v1/persons/search" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d "$body" | { grep -o '"family_name"' || true; } | wc -l)
    SEARCH_BODY="$body" wrk -t1 -c1 -d"${seconds}s" -s "$work/search.lua" \
        -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/persons/search" > "$work/wrk.txt"
    api=$(awk '/^p95_ms/ { print $2 }' "$work/wrk.txt")
    non2xx=$(awk '/^non2xx/ { print $2 }' "$work/wrk.txt")
    # The reference: the statement of the search before the name words.
    cat > "$work/before.sql" <<SQL
SELECT * FROM persons
WHERE territory_id = ANY('$scope'::uuid[])
  AND (parcours_fold('$q') <% search_name OR parcours_fold('$q') % search_name)
ORDER BY greatest(word_similarity(parcours_fold('$q'), search_name),
                  similarity(parcours_fold('$q'), search_name)) DESC, id
LIMIT 50;
SQL
    rm -f "$work"/pgbench_log.*
    (cd "$work" && pgbench -n -c1 -T"$seconds" -l -f before.sql "$DATABASE_URL" > pgbench.txt 2>&1)
    before=$(pgbench_p95 "$work/pgbench_log")
    ratio=$(awk -v a="$api" -v b="$before" 'BEGIN { printf "%.3f", a / b }')
    echo "q=\"$q\": $found found; API p95 $api ms (non-2xx: $non2xx); before: p95 $before ms; ratio $ratio"
    table_row "POST /v1/persons/search q=\"$q\", $total persons (p95 ms)" "$api" \
        "$before (whole-name trigram, pgbench)" "$ratio" "≤ 20 ms"
    # The plans of the statements inside parcours_search_persons too, by
    # auto_explain (one per statement the function ran).
    echo "EXPLAIN (ANALYZE, BUFFERS) of the search (q=\"$q\"), with its nested statements:"
    PGOPTIONS="-c client_min_messages=notice" psql "$DATABASE_URL" -q \
        -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
        -c "SET auto_explain.log_analyze = on" -c "SET auto_explain.log_buffers = on" \
        -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_level = notice" \
        -c "EXPLAIN (ANALYZE, BUFFERS) SELECT p.* FROM parcours_search_persons('$q', '$scope'::uuid[], 50) s JOIN persons p ON p.id = s.person_id WHERE p.territory_id = ANY('$scope'::uuid[]) ORDER BY s.score DESC, similarity(p.search_name, parcours_fold('$q')) DESC, p.id"
done

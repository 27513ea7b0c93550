#!/usr/bin/env bash
# Every benchmark, then one table: each figure, its reference measured in
# the same run, the ratio and the target. Each script's own report goes to
# bench-reports/<script>.txt.
#
#   bench/all.sh            full sizes (on 2 cores: 22 to 32 min to seed 1 M persons, once, then 13 to 15 min)
#   QUICK=1 bench/all.sh    small sizes and 3 s runs: each script under a minute
#   BENCH_DB_SMALL=demo9k BENCH_DB_LARGE=demo1m bench/all.sh
#                           reuse seeded databases (seed-demo --persons 9000 and
#                           1000000), e.g. for a second run
#
# The caseload list, the search and the large export read the same seeded
# database, seeded here once (and dropped at exit) unless one is given.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_TABLE
BENCH_TABLE="$(mktemp)"
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
created=()
keys="$(mktemp -d)" # the seeding's generated keys, not the developer's ./var
cleanup() {
    rm -rf "$BENCH_TABLE" "$keys"
    for db in "${created[@]}"; do
        psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    done
}
trap cleanup EXIT
small_persons=9000 large_persons=1000000
if [ -n "${QUICK:-}" ]; then
    export SECONDS_PER_RUN=3 PERSONS=3000 ROUNDS=1 RUNS=1
    small_persons=1000 large_persons=3000
fi
cargo build --release --quiet

# seeded VAR PERSONS: the database named in $VAR, or a new one seeded now.
seeded() {
    if [ -n "${!1:-}" ]; then echo "${!1}"; return; fi
    local db="parcours_bench_${2}_$$"
    psql "$server/postgres" -q -c "CREATE DATABASE $db"
    echo "seed-demo --persons $2 …" >&2
    DATABASE_URL="$server/$db" PARCOURS_DATA_DIR="$keys" PARCOURS_LOG=warn /usr/bin/time -f "  %e s" \
        ./target/release/parcours seed-demo --persons "$2" >/dev/null
    echo "$db"
}
small=$(seeded BENCH_DB_SMALL "$small_persons")
[ -z "${BENCH_DB_SMALL:-}" ] && created+=("$small")
large=$(seeded BENCH_DB_LARGE "$large_persons")
[ -z "${BENCH_DB_LARGE:-}" ] && created+=("$large")

mkdir -p bench-reports
for script in pathways_list search audit_cost audit_verify export login_flood; do
    echo "bench/$script.sh …" >&2
    started=$(date +%s)
    if ! BENCH_DB="$large" BENCH_DBS="$small $large" bash "bench/$script.sh" \
        > "bench-reports/$script.txt" 2>&1; then
        echo "bench/$script.sh failed: see bench-reports/$script.txt" >&2
        table_failed=1
    fi
    echo "  $(( $(date +%s) - started )) s" >&2
done
{
    printf 'figure\tvalue\treference (same run)\tratio\ttarget\n'
    cat "$BENCH_TABLE"
} | column -t -s $'\t'
[ -z "${table_failed:-}" ]

#!/usr/bin/env bash
# How fast, and in how much memory, does the pathways export stream? For
# each volume (about 10 thousand and 1 million pathways from
# `parcours seed-demo`), it measures in the same run:
#   - GET /v1/exports/pathways?format=csv, as an auditor (rows/s, and the
#     server's resident memory before and at its peak: VmRSS, VmHWM);
#   - psql "\copy (the same statement) to stdout" on the same database, the
#     reference (rows/s).
# Each is run RUNS times (default 3), alternated, and its median kept.
#
#   bench/export.sh                                   (needs psql, curl)
#   SIZES="9000" bench/export.sh                      (persons to seed, per volume)
#   BENCH_DBS="demo10k demo1m" bench/export.sh        (reuse seeded databases)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
sizes="${SIZES:-9000 900000}"
port=18082
work="$(mktemp -d)"
cargo build --release --quiet
export PARCOURS_BIND="127.0.0.1:$port" PARCOURS_LOG=warn PARCOURS_DATA_DIR="$work"
created=()
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    for db in "${created[@]}"; do
        psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    done
    rm -rf "$work"
}
trap cleanup EXIT

databases=()
if [ -n "${BENCH_DBS:-}" ]; then
    read -r -a databases <<< "$BENCH_DBS"
else
    for persons in $sizes; do
        db="parcours_export_bench_${persons}_$$"
        psql "$server/postgres" -q -c "CREATE DATABASE $db"
        created+=("$db")
        DATABASE_URL="$server/$db" /usr/bin/time -f "seed-demo $persons persons: %e s" \
            ./target/release/parcours seed-demo --persons "$persons" >/dev/null
        databases+=("$db")
    done
fi

# The export's statement with every filter off, for psql.
reference_sql=$(sed -e 's/\$1::domain/NULL::domain/; s/\$1/NULL/' -e 's/\$2::uuid/NULL::uuid/; s/\$2/NULL/' \
    -e 's/\$3::date/NULL::date/; s/\$3/NULL/' -e 's/\$4::date/NULL::date/; s/\$4/NULL/' \
    src/db/exports_pathways.sql | tr '\n' ' ')

printf '%-34s %10s %12s %12s %8s %12s %12s\n' database pathways "api rows/s" "psql rows/s" ratio \
    "rss before" "rss peak"
for db in "${databases[@]}"; do
    export DATABASE_URL="$server/$db"
    start_server "$port"
    email="auditor.$$.$db@hautes-alpes.example"
    bench_user "$email" --role auditor
    token=$(token_of "$port" "$email")
    rss_before=$(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status")

    # Each side RUNS times (3 by default), alternated; the median of each.
    # One export of 10 thousand rows takes a tenth of a second, so a single
    # one measured the machine's mood as much as the export.
    api_times=() psql_times=()
    for _ in $(seq 1 "${RUNS:-3}"); do
        start=$(date +%s.%N)
        api_lines=$(curl -sf "http://127.0.0.1:$port/v1/exports/pathways?format=csv" \
            -H "Authorization: Bearer $token" | wc -l)
        api_times+=("$(echo "$(date +%s.%N) - $start" | bc)")
        start=$(date +%s.%N)
        psql_lines=$(psql "$DATABASE_URL" -Atc "\\copy ($reference_sql) to stdout with csv" | wc -l)
        psql_times+=("$(echo "$(date +%s.%N) - $start" | bc)")
    done
    rss_peak=$(awk '/VmHWM/ {print $2 " kB"}' "/proc/$pid/status")
    api_secs=$(median "${api_times[@]}")
    psql_secs=$(median "${psql_times[@]}")

    rows=$((api_lines - 1))
    api_rate=$(echo "$rows / $api_secs" | bc)
    psql_rate=$(echo "$psql_lines / $psql_secs" | bc)
    printf '%-34s %10d %12d %12d %8.2f %12s %12s\n' "$db" "$rows" "$api_rate" "$psql_rate" \
        "$(echo "$api_rate / $psql_rate" | bc -l)" "$rss_before" "$rss_peak"
    [ "$rows" -eq "$psql_lines" ] || echo "  (api $rows rows, psql $psql_lines rows: they differ)"
    table_row "pathways export, $rows rows (rows/s)" "$api_rate" "$psql_rate psql \\copy" \
        "$(printf '%.2f' "$(echo "$api_rate / $psql_rate" | bc -l)")" "≥ 0.7"
    table_row "export peak memory, $rows rows" "$rss_peak" "$rss_before before" \
        "$(printf '%.2f' "$(echo "${rss_peak%% *} / ${rss_before%% *}" | bc -l)")" "flat (≈ 1)"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done

#!/usr/bin/env bash
# Every benchmark, then one table: each figure, its reference measured in
# the same run, the ratio and the target. Each script's own report goes to
# bench-reports/<script>.txt.
#
#   bench/all.sh            full sizes (about an hour on 2 cores: ~1 M pathways seeded twice)
#   QUICK=1 bench/all.sh    small sizes and 3 s runs: each script under a minute
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_TABLE
BENCH_TABLE="$(mktemp)"
trap 'rm -f "$BENCH_TABLE"' EXIT
if [ -n "${QUICK:-}" ]; then
    export SECONDS_PER_RUN=3 PERSONS=3000 SIZES=3000
fi
cargo build --release --quiet
mkdir -p bench-reports
for script in pathways_list search audit_cost audit_verify export login_flood; do
    echo "bench/$script.sh …" >&2
    started=$(date +%s)
    if ! bash "bench/$script.sh" > "bench-reports/$script.txt" 2>&1; then
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

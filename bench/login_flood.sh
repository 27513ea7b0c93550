#!/usr/bin/env bash
# Does a flood of logins stall everything else? Measures the p99 latency of
# an authenticated, audited read (GET /v1/pathways/{id} as a supervisor) and
# of GET /health, idle, then while 50 connections log in continuously with
# the production Argon2id cost (19 MiB, 2 iterations), and prints the ratios.
# The read is measured twice: 4 connections reading back to back, which
# saturates this machine on its own (a queue's latency), and 4 connections
# each pausing 10 ms between reads (bench/paced.lua, ~400 reads/s: a read's
# latency as users make them).
#
# A second reference, also measured in this run: the same reads while busy
# loops run, as many and scheduled as the hashing threads
# (PARCOURS_PASSWORD_CONCURRENCY, PARCOURS_PASSWORD_SCHEDULING). On this
# 2-core virtual machine any CPU-bound thread, even at SCHED_IDLE, raises
# the reads' p99; the flood against the busy loops is what the logins cost
# beyond that floor.
#
# The kernel's autogroups matter: with kernel.sched_autogroup_enabled=1 a
# thread's low priority holds only within its own session's share of a
# core, not against PostgreSQL's. What bounds the hashing either way is its
# CPU budget (PARCOURS_PASSWORD_CPU_SHARE, src/auth/passwords.rs). Run as
# root, the script measures with autogroups on, then off, and puts the
# setting back; otherwise it measures the setting it finds.
#
#   bench/login_flood.sh            (needs wrk and a PostgreSQL server;
#                                    BENCH_SERVER=postgres://… to choose it)
#   SECONDS_PER_RUN=3 bench/login_flood.sh     quick check, under a minute
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
seconds="${SECONDS_PER_RUN:-10}"
db="parcours_bench_$$"
port=18080
work="$(mktemp -d)"

cargo build --release --quiet
psql "$server/postgres" -q -c "CREATE DATABASE $db"
loops=()
cleanup() {
    for loop in "${loops[@]}"; do kill "$loop" 2>/dev/null || true; done
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="$server/$db" PARCOURS_BIND="127.0.0.1:$port" PARCOURS_LOG=warn \
       PARCOURS_DATA_DIR="$work" PARCOURS_TOKEN_RATE_PER_MINUTE=100000000
./target/release/parcours seed-demo --persons 2000 >/dev/null
start_server "$port"
bench_user bench@hautes-alpes.example --role coordinator
bench_user reader@hautes-alpes.example --role supervisor --territory 05-GAP \
    --domain disability --domain elderly --domain childhood --domain insertion
token=$(token_of "$port" reader@hautes-alpes.example)
territory=$(psql "$DATABASE_URL" -Atc "SELECT id FROM territories WHERE code = '05-GAP'")
pathway=$(psql "$DATABASE_URL" -Atc \
    "SELECT id FROM pathways WHERE territory_id = '$territory' ORDER BY id LIMIT 1 OFFSET 10")
read_url="http://127.0.0.1:$port/v1/pathways/$pathway"
curl -sf "$read_url" -H "Authorization: Bearer $token" >/dev/null
# The seeding's writes flushed, and caches warm, before anything is timed.
psql "$DATABASE_URL" -q -c "VACUUM ANALYZE" -c CHECKPOINT
wrk -t1 -c4 -d2s -H "Authorization: Bearer $token" "$read_url" >/dev/null

# p99 of a wrk --latency report, in milliseconds.
p99() { awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f }' "$1"; }
measure() { # measure NAME: the reads, one after the other
    wrk -t1 -c4 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$read_url" \
        > "$work/read-$1.txt"
    wrk -t1 -c4 -d"${seconds}s" --latency -s bench/paced.lua -H "Authorization: Bearer $token" \
        "$read_url" > "$work/paced-$1.txt"
    wrk -t1 -c4 -d"${seconds}s" --latency "http://127.0.0.1:$port/health" > "$work/health-$1.txt"
}

# One full measure under the kernel's current autogroup setting.
measure_all() {
autogroups=$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo unknown)
echo "kernel.sched_autogroup_enabled: $autogroups"
measure idle
# The busy loops: one per hashing thread, at the hashing threads' priority.
cores=$(nproc)
hashers="${PARCOURS_PASSWORD_CONCURRENCY:-0}"
[ "$hashers" -eq 0 ] && hashers=$(( cores > 1 ? cores - 1 : 1 ))
case "${PARCOURS_PASSWORD_SCHEDULING:-idle}" in
    idle) priority=(chrt -i 0) ;;
    nice) priority=(nice -n 10) ;;
    *) priority=() ;;
esac
for _ in $(seq 1 "$hashers"); do "${priority[@]}" sh -c 'while :; do :; done' & loops+=($!); done
measure busy
kill "${loops[@]}"; loops=()
wrk -t1 -c50 -d"$((3 * seconds + 4))s" -s bench/login.lua "http://127.0.0.1:$port/v1/auth/token" \
    > "$work/logins.txt" &
flood=$!
sleep 2
measure flood
wait "$flood"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
logins=$(awk '/Requests\/sec/ { print $2 }' "$work/logins.txt")
non2xx=$(awk '/Non-2xx/ { print $5 }' "$work/logins.txt")
reads_failed=$(awk '/Non-2xx/ { print $5 }' "$work/read-flood.txt")
for what in read paced health; do
    idle=$(p99 "$work/$what-idle.txt"); loaded=$(p99 "$work/$what-flood.txt")
    busy=$(p99 "$work/$what-busy.txt")
    case $what in
        read) name="GET /v1/pathways/{id}" ;;
        paced) name="GET /v1/pathways/{id} paced" ;;
        health) name="GET /health" ;;
    esac
    label=$(printf '%-27s' "$name")
    echo "$label p99 idle ${idle} ms, beside $hashers busy loop(s) ${busy} ms," \
        "during 50 logins ${loaded} ms: ratio $(ratio "$loaded" "$idle") to idle (target ≤ 2)," \
        "$(ratio "$loaded" "$busy") to the busy loops; busy loops to idle $(ratio "$busy" "$idle")"
    table_row "$name p99 during 50 logins (ms), autogroups $autogroups, $logins logins/s" \
        "$loaded" "$idle idle" \
        "$(ratio "$loaded" "$idle")" "≤ 2"
    table_row "$name p99 during 50 logins (ms)" "$loaded" "$busy beside busy loops" \
        "$(ratio "$loaded" "$busy")" "≈ 1 (the floor)"
done
echo "logins per second: ${logins} (non-2xx: ${non2xx:-0}); reads refused during the flood: ${reads_failed:-0}"
}

# Both settings of the kernel's autogroups, when this user may change them
# (root); the setting found is put back at the end.
setting=/proc/sys/kernel/sched_autogroup_enabled
if [ -w "$setting" ]; then
    found=$(cat "$setting")
    trap 'echo "$found" > "$setting"; cleanup' EXIT
    for value in 1 0; do
        echo "$value" > "$setting"
        measure_all
    done
else
    measure_all
fi

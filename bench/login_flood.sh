#!/usr/bin/env bash
# Does a flood of logins stall everything else? Measures the p99 latency of
# GET /health idle, then while 50 connections log in continuously with the
# production Argon2id cost (19 MiB, 2 iterations), and prints the ratio.
#
#   bench/login_flood.sh            (needs wrk and a PostgreSQL server;
#                                    BENCH_SERVER=postgres://… to choose it)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
db="parcours_bench_$$"
port=18080
work="$(mktemp -d)"

cargo build --release --quiet
psql "$server/postgres" -q -c "CREATE DATABASE $db"
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="$server/$db" PARCOURS_BIND="127.0.0.1:$port" PARCOURS_LOG=warn \
       PARCOURS_DATA_DIR="$work" PARCOURS_TOKEN_RATE_PER_MINUTE=100000000
start_server "$port"
bench_user bench@hautes-alpes.example --role coordinator

# p99 of a wrk --latency report, in milliseconds.
p99() { awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f }' "$1"; }

wrk -t1 -c4 -d10s --latency "http://127.0.0.1:$port/health" > "$work/idle.txt"
wrk -t1 -c50 -d16s -s bench/login.lua "http://127.0.0.1:$port/v1/auth/token" > "$work/logins.txt" &
flood=$!
sleep 3
wrk -t1 -c4 -d10s --latency "http://127.0.0.1:$port/health" > "$work/loaded.txt"
wait "$flood"

idle=$(p99 "$work/idle.txt"); loaded=$(p99 "$work/loaded.txt")
logins=$(awk '/Requests\/sec/ { print $2 }' "$work/logins.txt")
non2xx=$(awk '/Non-2xx/ { print $5 }' "$work/logins.txt")
echo "GET /health p99 idle:                ${idle} ms"
echo "GET /health p99 during 50 logins:    ${loaded} ms"
echo "ratio (target ≤ 3):                  $(awk -v a="$loaded" -v b="$idle" 'BEGIN { printf "%.2f", a / b }')"
echo "logins per second:                   ${logins} (non-2xx: ${non2xx:-0})"

#!/usr/bin/env bash
# The contract as its users check it (called by .ci/run): the OpenAPI
# linter with no error, a TypeScript client generated from the committed
# document that compiles with `tsc --strict`, and the partner's story played
# with that client against a real server on a fresh database.
#   contract/check.sh            (needs node, npm, psql, a built target/debug/parcours)
set -euo pipefail
cd "$(dirname "$0")"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
npm ci --no-audit --no-fund --silent
npm run --silent lint
npm run --silent client

server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
db="parcours_contract_$$"
port=18093
work="$(mktemp -d)"
psql "$server/postgres" -q -c "CREATE DATABASE $db"
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    rm -rf "$work"
}
trap cleanup EXIT
export DATABASE_URL="$server/$db" PARCOURS_DATA_DIR="$work" PARCOURS_LOG=warn \
       PARCOURS_BIND="127.0.0.1:$port"
parcours=../target/debug/parcours
"$parcours" migrate >/dev/null
secret=$("$parcours" create-client --client-id contract-story --name "Contract story" \
    --organization "CAF des Hautes-Alpes" | sed -n "s/^client secret (shown once): //p")
"$parcours" serve & pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
PARCOURS_URL="http://127.0.0.1:$port" PARCOURS_CLIENT_ID=contract-story \
    PARCOURS_CLIENT_SECRET="$secret" npm run --silent story

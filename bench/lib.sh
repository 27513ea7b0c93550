# Shared by the bench scripts (sourced): start the release server, create a
# user with the bench password, get its access token.
BENCH_PASSWORD='cheval agrafe pile correcte'

# table_row FIGURE VALUE REFERENCE RATIO TARGET: one line of the table
# bench/all.sh prints (appended to $BENCH_TABLE when it is set).
table_row() {
    if [ -n "${BENCH_TABLE:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_TABLE"; fi
}

# median NUMBER...: the middle one (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# start_server PORT: `parcours serve` in the background (its pid in $pid),
# once it answers /ready.
start_server() {
    ./target/release/parcours serve & pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/ready" >/dev/null && break; sleep 0.1; done
}

# bench_user EMAIL CREATE-USER-ARGS...
bench_user() {
    local email=$1; shift
    PARCOURS_PASSWORD="$BENCH_PASSWORD" ./target/release/parcours create-user --email "$email" "$@" >/dev/null
}

# token_of PORT EMAIL: an access token of the user.
token_of() {
    curl -sf "http://127.0.0.1:$1/v1/auth/token" -d grant_type=password \
        -d "username=$2" -d "password=$BENCH_PASSWORD" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}

# bench_database PORT PERSONS: the run's database, $BENCH_DB as it is or a
# new one seeded with PERSONS persons by seed-demo and dropped at exit, and
# the server's environment ($DATABASE_URL, port, logs); $work is a scratch
# folder, removed at exit, and the server started by start_server is
# stopped then.
bench_database() {
    server="${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
    work="$(mktemp -d)"
    export PARCOURS_BIND="127.0.0.1:$1" PARCOURS_LOG=warn PARCOURS_DATA_DIR="$work" \
           PARCOURS_TOKEN_RATE_PER_MINUTE=100000000
    if [ -n "${BENCH_DB:-}" ]; then
        db="$BENCH_DB"; drop=""
    else
        db="parcours_bench_$$"; drop=1
        psql "$server/postgres" -q -c "CREATE DATABASE $db"
    fi
    export DATABASE_URL="$server/$db"
    trap bench_cleanup EXIT
    if [ -n "$drop" ]; then
        /usr/bin/time -f "seed-demo: %e s, %M KiB peak" ./target/release/parcours seed-demo --persons "$2"
    fi
}

bench_cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    [ -n "$drop" ] && psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    rm -rf "$work"
}

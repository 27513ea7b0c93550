# Shared by the bench scripts (sourced): start the release server, create a
# user with the bench password, get its access token.
BENCH_PASSWORD='cheval agrafe pile correcte'

# table_row FIGURE VALUE REFERENCE RATIO TARGET: one line of the table
# bench/all.sh prints (appended to $BENCH_TABLE when it is set).
table_row() {
    if [ -n "${BENCH_TABLE:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_TABLE"; fi
}

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

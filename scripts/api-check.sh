#!/usr/bin/env bash
# Checks the JSON API against its own OpenAPI document with schemathesis (PyPI), three
# times: as an anonymous visitor, as a signed-in tenant administrator (a session cookie)
# and with an API token that may read and write every area. Any 5xx, schema violation (a
# response outside its schema, or a request outside the schema accepted) or status the
# document does not list fails the run.
#
# Every check runs but one: `positive_data_acceptance`, which expects every request the
# schema allows to succeed. The schema cannot say what only the tenant or the data knows (a
# provider of this council, a session ending after it starts, a key of 8 to 100 printable
# characters, a price band's label), so such requests get 422 or 400 with field errors,
# which the document lists.
#
# It starts its own server on the embedded defaults (a temporary folder, demonstration
# catalogue) and installs schemathesis once into ~/.cache/portal-schemathesis.
#
#   scripts/api-check.sh                 # harrow, 25 examples per operation
#   TENANT=somerset EXAMPLES=100 scripts/api-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Its own server on the embedded defaults, whatever the shell points at.
unset DATABASE_URL REDIS_URL

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portal-target}"
TENANT="${TENANT:-harrow}"
EXAMPLES="${EXAMPLES:-25}"
PORT="${PORT:-8097}"
HOST="$TENANT.localhost:$PORT"
BASE="http://127.0.0.1:$PORT"
ST_DIR="$HOME/.cache/portal-schemathesis"
ST_VERSION="4.32.5"

if ! "$ST_DIR/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
    echo "installing schemathesis $ST_VERSION into $ST_DIR (once)" >&2
    python3 -m venv "$ST_DIR" || {
        echo "python3 -m venv failed: install Python's venv module (Debian: python3-venv)" >&2
        exit 1
    }
    "$ST_DIR/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi

cargo build --quiet -p server --bin portal
PORTAL="$CARGO_TARGET_DIR/debug/portal"

WORK="$(mktemp -d)"
cp -r tenants "$WORK/"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK" || true
}
trap cleanup EXIT

(cd "$WORK" && APP__HTTP__PORT="$PORT" exec "$PORTAL" serve --demo-data >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 60); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    curl -fs -H "Host: $HOST" "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.5
done
# Ours, and answering (not another process on the port).
kill -0 "$SERVER_PID" 2>/dev/null && curl -fs -H "Host: $HOST" "$BASE/healthz" >/dev/null || {
    echo "the server did not start; its log:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

# A tenant administrator with a second factor (the CLI prints a password and recovery codes).
ADMIN="$(cd "$WORK" && "$PORTAL" accounts demo-admin --tenant "$TENANT")"
EMAIL="$(awk '/email:/ {print $2}' <<<"$ADMIN")"
PASSWORD="$(awk '/password:/ {print $2}' <<<"$ADMIN")"
CODE="$(awk '/recovery codes/ {getline; print $1}' <<<"$ADMIN")"

JAR="$WORK/cookies"
page() { curl -fs -b "$JAR" -c "$JAR" -H "Host: $HOST" "$BASE$1"; }
csrf() {
    local t
    t="$(page "$1" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//' || true)"
    [ -n "$t" ] || { echo "no form token on $1" >&2; exit 1; }
    printf '%s' "$t"
}
post() {
    local path="$1"
    shift
    curl -s -o "$WORK/last.html" -w '%{http_code}' -b "$JAR" -c "$JAR" -H "Host: $HOST" \
        "$@" "$BASE$path"
}

token="$(csrf /sign-in)"
[ "$(post /sign-in --data-urlencode "csrf_token=$token" --data-urlencode "email=$EMAIL" \
    --data-urlencode "password=$PASSWORD")" = 303 ] || { echo "sign-in failed" >&2; exit 1; }
token="$(csrf /sign-in/code)"
[ "$(post /sign-in/code --data-urlencode "csrf_token=$token" --data-urlencode "code=$CODE")" = 303 ] \
    || { echo "the security code was refused" >&2; exit 1; }
SESSION="$(awk '$6 ~ /portal_session$/ {print $6 "=" $7}' "$JAR")"
[ -n "$SESSION" ] || { echo "no session cookie" >&2; exit 1; }

token="$(csrf /manage/tokens)"
[ "$(post /manage/tokens --data-urlencode "csrf_token=$token" --data-urlencode "name=API check" \
    --data-urlencode "days=1" --data-urlencode "scope_catalogue=write" \
    --data-urlencode "scope_bookings=write" --data-urlencode "scope_rights=write")" = 201 ] \
    || { echo "could not make an API token" >&2; exit 1; }
API_TOKEN="$(grep -o 'id="new-token">[^<]*' "$WORK/last.html" | sed 's/.*>//' || true)"
[ -n "$API_TOKEN" ] || { echo "the new API token was not shown" >&2; exit 1; }

run() {
    echo "=== schemathesis: $1" >&2
    shift
    # From the scratch folder: schemathesis keeps a cache where it runs.
    (cd "$WORK" && "$ST_DIR/bin/st" run "$BASE/api/openapi.json" -H "Host: $HOST" "$@" \
        --checks all --exclude-checks positive_data_acceptance \
        --max-examples "$EXAMPLES" --no-color)
}
status=0
run "anonymous" || status=1
run "signed in (session cookie)" -H "Cookie: $SESSION" || status=1
run "API token, every area" -H "Authorization: Bearer $API_TOKEN" || status=1
exit "$status"

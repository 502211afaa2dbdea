#!/usr/bin/env bash
# Runs every benchmark with its same-run baseline and prints one table; exits non-zero when
# a target is missed or a benchmark fails. See docs/benchmarks.md.
#
#   scripts/bench.sh                  # all of them
#   scripts/bench.sh catalogue        # some of them (catalogue, memory, bookings, bundle,
#                                     # retention)
#
# The catalogue runs on the embedded SQLite database and needs `wrk` (installed with
# apt-get when this runs as root and it is missing); so does `memory`, which starts the
# release server (`portal serve --demo-data`, five tenants) and reads its resident memory
# idle and at its peak under wrk. The others measure PostgreSQL at
# DATABASE_URL (default: the local server every development machine runs). Set BENCH_SECS
# (catalogue, default 10), RETENTION_ACCOUNTS (default 1,000,000) or BUNDLE_ROUNDS to change
# their size. Release builds; the build cache is kept outside the clone as for the tests.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portal-target}"
PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

if [ "$#" -gt 0 ]; then benches=("$@"); else benches=(catalogue memory bookings bundle retention); fi
for b in "${benches[@]}"; do
    case "$b" in
        catalogue | memory | bookings | bundle | retention) ;;
        *) echo "error: no benchmark called '$b' (catalogue, memory, bookings, bundle, retention)" >&2; exit 2 ;;
    esac
done

if [[ " ${benches[*]} " == *" catalogue "* || " ${benches[*]} " == *" memory "* ]] &&
    ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1; apt-get install -y --no-install-recommends wrk >/dev/null 2>&1; }
    fi
    command -v wrk >/dev/null 2>&1 || { echo "error: the catalogue benchmark needs wrk" >&2; exit 2; }
fi

targets=()
for b in "${benches[@]}"; do [ "$b" = memory ] || targets+=(--bench "$b"); done
if [ "${#targets[@]}" -gt 0 ]; then cargo bench -q -p server "${targets[@]}" --no-run || exit 2; fi

# The release server's resident memory (kB in /proc), idle with the launch tenants and the
# demo catalogue, then its peak under wrk on the course list, a course page and the JSON
# list for BENCH_SECS each. Targets (issue 22): under 40 MB idle, under 100 MB at the peak.
memory() (
    cargo build -q --release -p server --bin portal || exit 2
    data="$(mktemp -d -t portal-memory.XXXXXX)"
    pid=""
    trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$data"' EXIT
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    # The embedded defaults, whatever database this shell names.
    env -u DATABASE_URL -u REDIS_URL APP__DATABASE__DATA_DIR="$data" APP__HTTP__HOST=127.0.0.1 \
        APP__HTTP__PORT="$port" APP__TELEMETRY__FILTER=warn \
        "$CARGO_TARGET_DIR/release/portal" serve --demo-data >"$data/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 120); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 0.5
    done
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 || { cat "$data/server.log" >&2; exit 2; }
    sleep 2
    kb() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$pid/status"; }
    idle="$(kb VmRSS)"
    # The peak from here on: start-up and seeding are not the load.
    echo 5 >"/proc/$pid/clear_refs"
    course="$(curl -sf -H 'Host: somerset.localhost' "http://127.0.0.1:$port/api/v1/courses" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
    [ -n "$course" ] || { echo "error: no course to ask for" >&2; exit 2; }
    for path in /courses "/courses/$course" /api/v1/courses; do
        out="$(wrk -t2 -c64 -d"${BENCH_SECS:-10}s" -H 'Host: somerset.localhost' "http://127.0.0.1:$port$path")"
        grep -E 'Requests/sec' <<<"$out" >&2
        if grep -q 'Non-2xx' <<<"$out"; then echo "error: $path answered errors under load" >&2; exit 2; fi
    done
    peak="$(kb VmHWM)"
    [ -n "$idle" ] && [ -n "$peak" ] || exit 2
    awk -v kb="$idle" 'BEGIN { mb = kb / 1024; printf "RESULT\tresident memory of the release server, idle\tportal serve --demo-data, five tenants, after start-up\t%.1f MB\t< 40 MB\t%s\n", mb, (mb < 40 ? "met" : "MISSED") }'
    awk -v kb="$peak" 'BEGIN { mb = kb / 1024; printf "RESULT\tresident memory of the release server, peak under load\twrk -t2 -c64 on the course list, a course page, the JSON list\t%.1f MB\t< 100 MB\t%s\n", mb, (mb < 100 ? "met" : "MISSED") }'
)

log="$(mktemp -t portal-bench.XXXXXX)"
status=0
for b in "${benches[@]}"; do
    echo "== $b" >&2
    if [ "$b" = memory ]; then
        memory 2>&1 | tee -a "$log" >&2
    elif [ "$b" = catalogue ]; then
        env -u DATABASE_URL cargo bench -q -p server --bench "$b" 2>&1 | tee -a "$log" >&2
    else
        DATABASE_URL="$PG_URL" cargo bench -q -p server --bench "$b" 2>&1 | tee -a "$log" >&2
    fi
    code="${PIPESTATUS[0]}"
    if [ "$code" != 0 ] && [ "$code" != 1 ]; then
        echo "error: the $b benchmark stopped (exit $code)" >&2
        printf 'RESULT\t%s\t%s\t-\t-\tFAILED\n' "$b" "did not finish (exit $code)" >>"$log"
    fi
    [ "$code" = 0 ] || status=1
done

echo
echo "| benchmark | measured | value | target | |"
echo "|---|---|---|---|---|"
grep '^RESULT' "$log" | while IFS=$'\t' read -r _ name figure value target verdict; do
    echo "| $name | $figure | $value | $target | $verdict |"
done
if grep -q $'^RESULT\t.*\t\(MISSED\|FAILED\)$' "$log"; then status=1; fi
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); full output: $log"
exit "$status"

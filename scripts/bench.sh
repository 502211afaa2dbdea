#!/usr/bin/env bash
# Runs every benchmark with its same-run baseline and prints one table; exits non-zero when
# a target is missed or a benchmark fails. See docs/benchmarks.md.
#
#   scripts/bench.sh                  # all of them
#   scripts/bench.sh catalogue        # some of them (catalogue, bookings, bundle, retention)
#
# The catalogue runs on the embedded SQLite database and needs `wrk` (installed with
# apt-get when this runs as root and it is missing). The others measure PostgreSQL at
# DATABASE_URL (default: the local server every development machine runs). Set BENCH_SECS
# (catalogue, default 10), RETENTION_ACCOUNTS (default 1,000,000) or BUNDLE_ROUNDS to change
# their size. Release builds; the build cache is kept outside the clone as for the tests.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portal-target}"
PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

if [ "$#" -gt 0 ]; then benches=("$@"); else benches=(catalogue bookings bundle retention); fi
for b in "${benches[@]}"; do
    case "$b" in
        catalogue | bookings | bundle | retention) ;;
        *) echo "error: no benchmark called '$b' (catalogue, bookings, bundle, retention)" >&2; exit 2 ;;
    esac
done

if [[ " ${benches[*]} " == *" catalogue "* ]] && ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1; apt-get install -y --no-install-recommends wrk >/dev/null 2>&1; }
    fi
    command -v wrk >/dev/null 2>&1 || { echo "error: the catalogue benchmark needs wrk" >&2; exit 2; }
fi

targets=()
for b in "${benches[@]}"; do targets+=(--bench "$b"); done
cargo bench -q -p server "${targets[@]}" --no-run || exit 2

log="$(mktemp -t portal-bench.XXXXXX)"
status=0
for b in "${benches[@]}"; do
    echo "== $b" >&2
    if [ "$b" = catalogue ]; then
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

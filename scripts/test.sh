#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the CLI tests and the HTTP end-to-end tests.
#
# With nothing set it tests the embedded defaults (SQLite, in-process cache). Set
# DATABASE_URL=postgres://… (and REDIS_URL=redis://…) to run the same suite against
# PostgreSQL and Redis; each test then works in a schema of its own and drops it.
#
# Extra arguments go to the test runner, e.g. `scripts/test.sh routing` to filter.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep the build cache outside the clone, so a fresh clone (and CI) reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portal-target}"

# The real services some tests need (an OpenID provider, Chromium with axe-core, an S3
# server) are installed once into caches outside the clone. On a developer's machine a
# tool that cannot be set up makes its tests say they are skipped; under CI (CI=true) it
# fails the run, so a missing tool never passes as "skipped".
case "$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')" in
    "" | 0 | false) UNDER_CI="" ;;
    *) UNDER_CI=1 ;;
esac
unavailable() {
    if [ -n "$UNDER_CI" ]; then
        echo "error: $1 (CI=${CI}: these tests may not be skipped)" >&2
        exit 1
    fi
    echo "$1: those tests will be skipped" >&2
}

# Installs Debian packages (as root): tries the package lists as they are, and runs
# `apt-get update` once if that fails (a fresh machine's lists are empty or stale).
APT_UPDATED=""
APT_LOG=""
apt_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    [ -n "$APT_LOG" ] || APT_LOG="$(mktemp -t portal-apt.XXXXXX)"
    if apt-get install -y --no-install-recommends "$@" >>"$APT_LOG" 2>&1; then
        return 0
    fi
    if [ -z "$APT_UPDATED" ]; then
        APT_UPDATED=1
        apt-get update >>"$APT_LOG" 2>&1 || true
        apt-get install -y --no-install-recommends "$@" >>"$APT_LOG" 2>&1 && return 0
    fi
    echo "apt-get install $* failed; see $APT_LOG" >&2
    return 1
}

# npm ci of a test tool's lock file into a cache folder, when the lock file changed.
npm_tool() {
    local src="$1" dir="$2"
    mkdir -p "$dir"
    if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
        cp "$src/package.json" "$src/package-lock.json" "$dir/"
        if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2; then
            # Leave nothing that looks installed, so the next run tries again.
            rm -rf "$dir/node_modules" "$dir/package-lock.json"
            return 1
        fi
    fi
}

if ! command -v npm >/dev/null 2>&1; then
    echo "installing Debian nodejs and npm for the sign-in and accessibility tests (once)" >&2
    apt_install nodejs npm || true
fi

# A real OpenID provider (npm oidc-provider) for the sign-in tests, started by each test
# on its own port.
OIDC_DIR="$HOME/.cache/portal-oidc"
if command -v npm >/dev/null 2>&1 && npm_tool tests/oidc "$OIDC_DIR"; then
    cp tests/oidc/op.mjs "$OIDC_DIR/op.mjs"
    export OIDC_OP_SCRIPT="$OIDC_DIR/op.mjs"
else
    unavailable "Node.js or the OpenID provider could not be set up"
fi

# Accessibility checks: axe-core in headless Chromium (Debian's `chromium`, driven by npm
# playwright-core).
A11Y_DIR="$HOME/.cache/portal-a11y"
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Debian chromium for the accessibility checks (once)" >&2
    apt_install chromium || true
fi
CHROMIUM_BIN="$(command -v chromium || true)"
if [ -n "$CHROMIUM_BIN" ] && command -v npm >/dev/null 2>&1 && npm_tool tests/a11y "$A11Y_DIR"; then
    cp tests/a11y/axe.mjs tests/a11y/journey.mjs "$A11Y_DIR/"
    export A11Y_SCRIPT="$A11Y_DIR/axe.mjs" JOURNEY_SCRIPT="$A11Y_DIR/journey.mjs" \
        CHROMIUM="$CHROMIUM_BIN"
    # The browser journeys' screenshots: kept in the build folder for CI to collect as
    # artefacts, never in the clone.
    export SCREENSHOTS="${SCREENSHOTS:-$CARGO_TARGET_DIR/screenshots}"
else
    unavailable "Chromium or axe-core could not be set up"
fi

# A real S3-compatible server (s3s-fs) for the object-storage tests, built once (about two
# minutes the first time).
TOOLS_DIR="$HOME/.cache/portal-tools"
if [ ! -x "$TOOLS_DIR/bin/s3s-fs" ]; then
    echo "installing s3s-fs into $TOOLS_DIR (once)" >&2
    cargo install s3s-fs@0.14.1 --features binary --locked --root "$TOOLS_DIR" >&2 || true
fi
if [ -x "$TOOLS_DIR/bin/s3s-fs" ]; then
    export S3S_FS_BIN="$TOOLS_DIR/bin/s3s-fs"
else
    unavailable "the S3 server s3s-fs could not be installed"
fi

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest --locked)" >&2
    exec cargo test --workspace --no-fail-fast "$@"
fi

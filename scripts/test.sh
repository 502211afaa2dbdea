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

# A real OpenID provider (npm oidc-provider) for the sign-in tests, installed once into a
# cache outside the clone and started by each test on its own port. Without Node.js those
# tests say they are skipped.
OIDC_DIR="$HOME/.cache/portal-oidc"
if command -v npm >/dev/null 2>&1; then
    mkdir -p "$OIDC_DIR"
    if ! cmp -s tests/oidc/package-lock.json "$OIDC_DIR/package-lock.json" || [ ! -d "$OIDC_DIR/node_modules" ]; then
        cp tests/oidc/package.json tests/oidc/package-lock.json "$OIDC_DIR/"
        (cd "$OIDC_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
    fi
    cp tests/oidc/op.mjs "$OIDC_DIR/op.mjs"
    export OIDC_OP_SCRIPT="$OIDC_DIR/op.mjs"
else
    echo "npm not found: the OpenID sign-in tests will be skipped" >&2
fi

# Accessibility checks: axe-core in headless Chromium (Debian's `chromium`, driven by npm
# playwright-core). Installed once into a cache outside the clone; without Chromium or npm
# those tests say they are skipped.
A11Y_DIR="$HOME/.cache/portal-a11y"
CHROMIUM_BIN="$(command -v chromium || true)"
if [ -z "$CHROMIUM_BIN" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian chromium for the accessibility checks (once)" >&2
    apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || true
    CHROMIUM_BIN="$(command -v chromium || true)"
fi
if [ -n "$CHROMIUM_BIN" ] && command -v npm >/dev/null 2>&1; then
    mkdir -p "$A11Y_DIR"
    if ! cmp -s tests/a11y/package-lock.json "$A11Y_DIR/package-lock.json" || [ ! -d "$A11Y_DIR/node_modules" ]; then
        cp tests/a11y/package.json tests/a11y/package-lock.json "$A11Y_DIR/"
        (cd "$A11Y_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
    fi
    cp tests/a11y/axe.mjs "$A11Y_DIR/axe.mjs"
    export A11Y_SCRIPT="$A11Y_DIR/axe.mjs" CHROMIUM="$CHROMIUM_BIN"
else
    echo "chromium or npm not found: the accessibility checks will be skipped" >&2
fi

# A real S3-compatible server (s3s-fs) for the object-storage tests, built once into a
# cache outside the clone (about two minutes the first time). Without it those tests say
# they are skipped.
TOOLS_DIR="$HOME/.cache/portal-tools"
if [ ! -x "$TOOLS_DIR/bin/s3s-fs" ]; then
    echo "installing s3s-fs into $TOOLS_DIR (once)" >&2
    cargo install s3s-fs@0.14.1 --features binary --locked --root "$TOOLS_DIR" >&2 \
        || echo "could not install s3s-fs: the S3 tests will be skipped" >&2
fi
if [ -x "$TOOLS_DIR/bin/s3s-fs" ]; then
    export S3S_FS_BIN="$TOOLS_DIR/bin/s3s-fs"
fi

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest --locked)" >&2
    exec cargo test --workspace --no-fail-fast "$@"
fi

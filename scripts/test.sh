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

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "cargo-nextest not found; using cargo test (install it with: cargo install cargo-nextest --locked)" >&2
    exec cargo test --workspace --no-fail-fast "$@"
fi

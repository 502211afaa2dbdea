#!/usr/bin/env bash
# Build the single stylesheet the Rust server embeds:
#   assets/scss/app.scss  ->  crates/server/assets/app.css
# Usage (from anywhere): bash assets/build.sh
set -euo pipefail

ASSETS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${ASSETS_DIR}/.." && pwd)"
OUT_DIR="${REPO_ROOT}/crates/server/assets"
OUT_FILE="${OUT_DIR}/app.css"

cd "${ASSETS_DIR}"

command -v npm >/dev/null 2>&1 || { echo "build.sh: npm (Node.js) is required" >&2; exit 1; }

# Install exactly what package-lock.json pins. --ignore-scripts: nothing we
# use needs an install script (sass is pure JS; its optional file-watcher
# dependency is only for --watch).
if [[ -f package-lock.json ]]; then
  npm ci --ignore-scripts --no-audit --no-fund
else
  npm install --ignore-scripts --no-audit --no-fund
fi

mkdir -p "${OUT_DIR}"

# govuk-frontend 5.x still uses @import and some global Sass functions that
# dart-sass flags as deprecated: --quiet-deps silences warnings coming from
# node_modules; the explicit silences cover our own @import of it.
./node_modules/.bin/sass \
  --load-path=node_modules \
  --style=compressed \
  --no-source-map \
  --quiet-deps \
  --silence-deprecation=import \
  --silence-deprecation=global-builtin \
  scss/app.scss "${OUT_FILE}.tmp"

mv "${OUT_FILE}.tmp" "${OUT_FILE}"

# Guard the branding/licensing rules this stylesheet exists to enforce.
if grep -qi 'GDS Transport' "${OUT_FILE}"; then
  echo "build.sh: ${OUT_FILE} mentions GDS Transport (licensed for GOV.UK only)" >&2
  exit 1
fi
if grep -qiE 'url\([^)]*(crown|crest|govuk-logo|\.woff2?)' "${OUT_FILE}"; then
  echo "build.sh: ${OUT_FILE} references a GOV.UK crown/crest image or GOV.UK font file" >&2
  exit 1
fi

echo "build.sh: wrote ${OUT_FILE} ($(wc -c <"${OUT_FILE}") bytes)"

#!/usr/bin/env bash
# Builds the web dashboard (web/) into the Python package (cfgctl/server/dashboard/), which
# `cfgctl serve` serves at / and the wheel carries: only when the bundle is missing or older
# than a file of web/ (node_modules aside). `npm ci` only when package-lock.json is newer than
# the installed packages. Quiet unless something fails. No browser is downloaded.
#   bash scripts/build-web.sh           # make install runs it
#   bash scripts/build-web.sh --force   # rebuild anyway
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=cfgctl/server/dashboard/index.html
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_config_fund=false npm_config_audit=false \
  npm_config_update_notifier=false

if [ "${1:-}" != "--force" ] && [ -f "$bundle" ] && [ -z "$(find web -path web/node_modules -prune -o -type f -newer "$bundle" -print -quit)" ]; then
  exit 0  # up to date
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found (Node.js 20 and npm are needed): the web dashboard is not built; cfgctl serve says so at /" >&2
  exit 0
fi
installed=web/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ web/package-lock.json -nt "$installed" ]; then
  log=$(mktemp)
  if ! (cd web && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "error: npm ci failed in web/" >&2
    exit 1
  fi
  rm -f "$log"
fi
log=$(mktemp)
if ! (cd web && npm run --silent build) >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"
  echo "error: the web dashboard's build failed (cd web && npm run build)" >&2
  exit 1
fi
rm -f "$log"
touch "$bundle"

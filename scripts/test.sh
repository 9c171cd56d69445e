#!/usr/bin/env bash
# `pnpm test`: every test, unit and integration, against real PostgreSQL + pgvector
# and Redis. Exits non-zero on any failure.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The dashboard's browser tests drive Debian's Chromium.
bash scripts/ensure-browser.sh
# With a Docker engine the tests start their own containers (testcontainers);
# otherwise they use the local services, made ready here.
if ! (command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1) || [ "${DEALDOME_TESTCONTAINERS:-}" = "false" ]; then
  # (Assigned first: `eval "$(…)"` alone would carry on after a failure.)
  services_env=$(DATABASE_URL="${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}" bash scripts/ensure-services.sh)
  eval "$services_env"
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$DATABASE_URL}" TEST_REDIS_URL="${TEST_REDIS_URL:-$REDIS_URL}"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
pnpm exec turbo run test --concurrency=1 --continue "$@" 2>&1 | tee "$log" || status=$?
# One closing line over every package's jest summary.
awk '/Tests:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^skipped/) s += $i } }
     END { printf "%d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n" }' "$log"
exit "$status"

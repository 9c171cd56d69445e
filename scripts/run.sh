#!/usr/bin/env bash
# `pnpm start`: from a fresh machine to all five services running.
# Installs dependencies, makes PostgreSQL+pgvector and Redis available, builds,
# migrates once, then starts the services and prints where each listens.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
# Secrets a local run needs and nobody set: generated once, kept out of git in .run/.
mkdir -p .run && chmod 700 .run
if [ -z "${JWT_SECRET:-}" ]; then
  [ -s .run/jwt-secret ] || (umask 077; node -e "process.stdout.write(require('crypto').randomBytes(48).toString('base64url'))" > .run/jwt-secret)
  JWT_SECRET=$(cat .run/jwt-secret)
  export JWT_SECRET
fi
bash scripts/install.sh
eval "$(bash scripts/ensure-services.sh)"
pnpm exec turbo run build --output-logs=errors-only
pnpm --silent dealdome migrate
# Migrated once above; the services only verify the schema, they don't race to apply it.
export MIGRATE_ON_START=false
exec node scripts/run-platform.mjs

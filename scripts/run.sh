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
if [ -z "${SETTINGS_ENCRYPTION_KEY:-}" ]; then
  [ -s .run/settings-key ] || (umask 077; node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))" > .run/settings-key)
  SETTINGS_ENCRYPTION_KEY=$(cat .run/settings-key)
  export SETTINGS_ENCRYPTION_KEY
fi
bash scripts/install.sh
# (Assigned first: `eval "$(…)"` alone would carry on after a failure.)
services_env=$(bash scripts/ensure-services.sh)
eval "$services_env"
pnpm exec turbo run build --output-logs=errors-only
pnpm --silent dealdome migrate
# Demo data on an empty installation; the demo admin's password is shown once by the
# CLI, so it is kept (owner-only) in .run/ to be printed on every start — with the
# database it belongs to (password left out), so another database's is never shown.
seeded=$(pnpm --silent dealdome demo:seed --if-empty)
printf '%s\n' "$seeded" | grep -v '^demo admin' || true
if printf '%s\n' "$seeded" | grep -q '^demo admin password:'; then
  database=$(node -e 'const u = new URL(process.argv[1]); u.password = ""; process.stdout.write(u.href)' "$DATABASE_URL")
  (umask 077; { printf 'database: %s\n' "$database"; printf '%s\n' "$seeded" | grep '^demo admin'; } > .run/demo-admin)
fi
# No bot token and no other Bot API: the launcher runs the local Telegram emulator and
# `pnpm chat` writes there as Telegram user 1001, which must be a team member — the demo
# admin, linked to it unless that id or the admin is linked already. Never with a real
# bot: a real Telegram account has that id.
export DEALDOME_TELEGRAM_EMULATOR=false DEALDOME_CHAT_USER=
if [ -z "${TELEGRAM_BOT_TOKEN:-}" ] && [ -z "${TELEGRAM_API_BASE_URL:-}" ]; then
  DEALDOME_TELEGRAM_EMULATOR=true
  chat_user=$(pnpm --silent dealdome demo:link-telegram --email admin@dealdome.local --telegram-id 1001)
  printf '%s\n' "$chat_user"
  # "<telegram id> <email>" for the launcher's hint; empty when nobody could be linked.
  DEALDOME_CHAT_USER=$(printf '%s\n' "$chat_user" | sed -n 's/^chat user: \(.*\) is Telegram user \([0-9]*\) .*/\2 \1/p')
fi
# Migrated once above; the services only verify the schema, they don't race to apply it.
export MIGRATE_ON_START=false
export DEALDOME_CREDENTIALS_FILE=.run/demo-admin
exec node scripts/run-platform.mjs

#!/usr/bin/env bash
# `pnpm test:faults`: the fault suite (tests/faults). Every scenario runs the services as
# processes on a PostgreSQL and a Redis server of its own — started from this machine's
# binaries, stopped and restarted by the scenarios, deleted afterwards — never on the
# shared servers other tests use. Installs what those servers need when it is missing:
# redis-server, and a PostgreSQL installation (pg_config on PATH) with pgvector >= 0.8.
# Arguments go to jest (a file name runs one scenario).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."
log() { printf '[test-faults] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq >&2; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

bash scripts/install.sh

if ! command -v redis-server >/dev/null; then
  log "redis-server is not on PATH; installing Debian's redis-server package"
  apt_install redis-server
fi

# The server binaries: the installation pg_config names, else the newest under /usr/lib/postgresql.
if ! command -v pg_config >/dev/null || [ ! -x "$(pg_config --bindir)/initdb" ]; then
  major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1)
  if [ -z "$major" ]; then
    log "no PostgreSQL server installation; installing Debian's postgresql package"
    apt_install postgresql
    major=$(ls /usr/lib/postgresql | sort -n | tail -n1)
  fi
  log "pg_config for PostgreSQL $major comes with postgresql-server-dev-$major; installing it"
  apt_install "postgresql-server-dev-$major"
fi
sharedir=$(pg_config --sharedir)
major=$("$(pg_config --bindir)/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
pgvector_version() { sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" "$sharedir/extension/vector.control" 2>/dev/null; }
pgvector_ok() { local v; v=$(pgvector_version); [ -n "$v" ] && [ "$(printf '0.8.0\n%s\n' "$v" | sort -V | head -n1)" = "0.8.0" ]; }
if ! pgvector_ok; then
  log "PostgreSQL $major has pgvector '$(pgvector_version)'; trying the postgresql-$major-pgvector package"
  apt_install "postgresql-$major-pgvector" || true
fi
if ! pgvector_ok; then
  log "PostgreSQL $major needs pgvector >= 0.8 (found '$(pgvector_version)'): run scripts/ensure-pgvector.sh against a server of that installation, or install PGDG's postgresql-$major-pgvector"
  exit 1
fi

exec pnpm --filter @dealdome/fault-suite run test:faults "$@"

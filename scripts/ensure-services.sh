#!/usr/bin/env bash
# Makes PostgreSQL (with pgvector) and Redis answer at DATABASE_URL and REDIS_URL.
#   - Given URLs are used as they are (only pgvector is checked and, on a local
#     server we administer, built).
#   - With a Docker engine, `docker compose up -d postgres redis` starts them.
#   - Otherwise they are installed from Debian's packages and started natively.
# Prints the two URLs as shell assignments for the caller to eval.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[ensure-services] %s\n' "$*" >&2; }

: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/dealdome}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"
admin_url="${DATABASE_URL%/*}/postgres"
db_name="${DATABASE_URL##*/}"; db_name="${db_name%%\?*}"

pg_answers() { psql "$admin_url" -tAqc 'SELECT 1' >/dev/null 2>&1; }
redis_answers() { command -v redis-cli >/dev/null && [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = "PONG" ]; }
docker_answers() { command -v docker >/dev/null && timeout 5 docker info >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v psql >/dev/null; then apt_install postgresql-client; fi
if ! command -v redis-cli >/dev/null; then apt_install redis-tools; fi

if ! pg_answers || ! redis_answers; then
  if docker_answers; then
    log "starting PostgreSQL and Redis with docker compose"
    (cd "$here/.." && docker compose up -d --wait postgres redis)
  fi
fi

if ! pg_answers; then
  log "PostgreSQL does not answer; installing and starting it from Debian's packages"
  command -v pg_lsclusters >/dev/null || apt_install postgresql
  for cluster in $(pg_lsclusters -h | awk '{print $1"/"$2}'); do
    as_root pg_ctlcluster --skip-systemctl-redirect "${cluster%/*}" "${cluster#*/}" start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
  pg_answers || { log "PostgreSQL still does not answer at ${admin_url%%@*}@…"; exit 1; }
fi

if ! redis_answers; then
  log "Redis does not answer; installing and starting it from Debian's packages"
  command -v redis-server >/dev/null || apt_install redis-server
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/dealdome.log
  for _ in $(seq 1 30); do redis_answers && break; sleep 1; done
  redis_answers || { log "Redis still does not answer"; exit 1; }
fi

DATABASE_URL="$DATABASE_URL" bash "$here/ensure-pgvector.sh"

if [ "$db_name" != "postgres" ] && [ -z "$(psql "$admin_url" -tAqc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" ]; then
  log "creating database $db_name"
  psql "$admin_url" -qc "CREATE DATABASE \"$db_name\"" >/dev/null
fi

printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$DATABASE_URL" "$REDIS_URL"

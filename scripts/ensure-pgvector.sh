#!/usr/bin/env bash
# Makes `CREATE EXTENSION vector` work on the PostgreSQL server behind $DATABASE_URL.
# pgvector (>= 0.8) is not packaged for Debian 12, so it is built from the source
# package of Debian's next release, fetched through a deb-src-only apt entry whose
# archive address is read from this machine's own apt sources.
# Does nothing when the extension is already available, unless PGVECTOR_REBUILD=1.
#
# PGVECTOR_OPTFLAGS is passed to pgvector's Makefile as OPTFLAGS. Left unset it is
# pgvector's own default, -march=native: the distance functions are auto-vectorised
# for this machine's CPU (AVX2/AVX-512 where present), several times faster than the
# baseline x86-64 build. The library is built on, and for, the machine whose server
# loads it; set PGVECTOR_OPTFLAGS="" for a portable build (an image that moves to
# other CPUs).
set -euo pipefail

: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
PGVECTOR_MIN_VERSION="0.8.0"
NEWER_SUITES=(trixie forky sid)
SRC_LIST=/etc/apt/sources.list.d/dealdome-pgvector-src.sources

log() { printf '[ensure-pgvector] %s\n' "$*" >&2; }

admin_url() {
  # The maintenance database always exists, even before ours is created.
  printf '%s' "${DATABASE_URL%/*}/postgres"
}

available_version() {
  psql "$(admin_url)" -tAq -c \
    "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'" 2>/dev/null || true
}

version_ok() {
  local have=$1
  [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$PGVECTOR_MIN_VERSION" "$have" | sort -V | head -n1)" = "$PGVECTOR_MIN_VERSION" ]
}

PGVECTOR_OPTFLAGS=${PGVECTOR_OPTFLAGS--march=native}
have=$(available_version)
if version_ok "$have" && [ "${PGVECTOR_REBUILD:-}" != "1" ]; then
  log "pgvector $have is available; nothing to do"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  # Building needs root (apt-get, make install): the README's "root, or sudo".
  if command -v sudo >/dev/null; then
    log "pgvector is missing; building it needs root, asking sudo"
    exec sudo DATABASE_URL="$DATABASE_URL" PGVECTOR_REBUILD="${PGVECTOR_REBUILD:-}" PGVECTOR_OPTFLAGS="$PGVECTOR_OPTFLAGS" bash "$0" "$@"
  fi
  log "pgvector is missing and building it needs root (apt-get, make install); run this script as root"
  exit 1
fi

major=$(psql "$(admin_url)" -tAq -c "SELECT current_setting('server_version_num')::int / 10000")
log "PostgreSQL major version $major; pgvector ${have:-absent}; building pgvector >= $PGVECTOR_MIN_VERSION (OPTFLAGS '${PGVECTOR_OPTFLAGS}')"

# The archive address and keyring of the main Debian suite this machine already uses:
# the first deb822 stanza (or one-line entry) of type deb for this release's codename
# that is not the security archive.
codename=$(. /etc/os-release; echo "${VERSION_CODENAME:-}")
archive_uri=""
keyring=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  found=$(awk -v codename="$codename" '
    function check() {
      if (!done && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " codename " ") && uris !~ /security/ && uris != "") {
        split(uris, u, " "); print u[1] "\t" keyring; done = 1; exit
      }
      types = ""; uris = ""; suites = ""; keyring = ""
    }
    /^[[:space:]]*$/ { check(); next }
    /^[[:space:]]*#/ { next }
    tolower($1) == "types:"     { sub(/^[^:]*:[[:space:]]*/, ""); types = $0 }
    tolower($1) == "uris:"      { sub(/^[^:]*:[[:space:]]*/, ""); uris = $0 }
    tolower($1) == "suites:"    { sub(/^[^:]*:[[:space:]]*/, ""); suites = $0 }
    tolower($1) == "signed-by:" { sub(/^[^:]*:[[:space:]]*/, ""); keyring = $0 }
    END { check() }' "$f")
  if [ -n "$found" ]; then
    archive_uri=${found%%$'\t'*}
    keyring=${found#*$'\t'}
    break
  fi
done
if [ -z "$archive_uri" ] && [ -f /etc/apt/sources.list ]; then
  # One-line format: deb [options] uri suite components…
  archive_uri=$(sed -e 's/\[[^]]*\]//' /etc/apt/sources.list |
    awk -v codename="$codename" '$1 == "deb" && $3 == codename && $2 !~ /security/ {print $2; exit}')
fi
if [ -z "$archive_uri" ]; then
  log "could not find the Debian archive address in this machine's apt sources"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# The deb-src entry is only needed while fetching; it never outlives this script.
rm -f "$SRC_LIST"
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"; rm -f "$SRC_LIST"' EXIT
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-$major" dpkg-dev build-essential >/dev/null

fetched=""
for suite in "${NEWER_SUITES[@]}"; do
  {
    echo "Types: deb-src"
    echo "URIs: $archive_uri"
    echo "Suites: $suite"
    echo "Components: main"
    [ -n "$keyring" ] && echo "Signed-By: $keyring"
  } > "$SRC_LIST"
  if apt-get update -qq -o Dir::Etc::sourcelist="$SRC_LIST" -o Dir::Etc::sourceparts="-" -o APT::Get::List-Cleanup="0" 2>/dev/null \
     && (cd "$workdir" && apt-get source -qq --download-only pgvector >/dev/null 2>&1); then
    fetched=$suite
    break
  fi
  log "no pgvector source from suite $suite"
done
if [ -z "$fetched" ]; then
  log "could not fetch the pgvector source package from any of: ${NEWER_SUITES[*]}"
  exit 1
fi
log "fetched pgvector source from $fetched"
(cd "$workdir" && dpkg-source -x --no-check ./*.dsc src >/dev/null)
make -s -C "$workdir/src" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="$PGVECTOR_OPTFLAGS" >/dev/null
make -s -C "$workdir/src" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="$PGVECTOR_OPTFLAGS" install >/dev/null

have=$(available_version)
if ! version_ok "$have"; then
  log "pgvector was built but PostgreSQL reports version '${have:-none}'"
  exit 1
fi
log "pgvector $have installed"

#!/usr/bin/env bash
# Make a PostgreSQL server answer on 127.0.0.1:${PGPORT:-55432} for the test suites, and print its URL.
# Installs Debian's postgresql package when no server binaries are found, then runs a private cluster
# under .var/postgres owned by the `postgres` system user (PostgreSQL refuses to run as root).
set -euo pipefail

port="${PGPORT:-55432}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${ARIANE_PG_DATA:-$root/.var/postgres}"

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$found"
}

bin="$(find_bin)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "installing PostgreSQL (Debian package)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  # The package may start its own cluster on 5432; ours is separate, leave theirs alone but do not need it.
  bin="$(find_bin)"
fi
[ -x "$bin/initdb" ] || { echo "error: PostgreSQL server binaries not found after install" >&2; exit 1; }

run_as_pg() {
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

mkdir -p "$data"
[ "$(id -u)" = "0" ] && chown postgres "$data" "$(dirname "$data")" 2>/dev/null || true
chmod 700 "$data"
if [ ! -f "$data/PG_VERSION" ]; then
  run_as_pg "$bin/initdb" -D "$data" -U ariane --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! run_as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  run_as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
else
  # Already running from this data directory: on the port it was started with (line 4 of postmaster.pid),
  # which a URL with another port would not reach.
  running="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)"
  if [ -n "$running" ] && [ "$running" != "$port" ]; then
    echo "error: the cluster in $data already runs on port $running, not $port: use PGPORT=$running, or" \
         "ARIANE_PG_DATA=<another directory> for a second cluster" >&2
    exit 1
  fi
fi
echo "postgresql+asyncpg://ariane@127.0.0.1:$port/postgres"

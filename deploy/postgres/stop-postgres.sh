#!/usr/bin/env bash
# Stop the private cluster that ensure-postgres.sh started (by its data directory, never anyone else's).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${ARIANE_PG_DATA:-$root/.var/postgres}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
[ -n "$bin" ] && [ -f "$data/PG_VERSION" ] || exit 0
if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
else "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true; fi

#!/usr/bin/env bash
# The Temporal dev server with its Web UI, persistent in a SQLite file, with
# the search attributes the workflows use. Usage: temporal.sh TEMPORAL_BIN DBFILE PORT UI_PORT
# It runs in the foreground; run.sh puts it in the background.
set -euo pipefail
bin="$1" db="$2" port="$3" ui="$4"
here="$(dirname "$0")"
args=()
while read -r name type; do
  args+=(--search-attribute "$name=$type")
done < <(grep -v '^#' "$here/../temporal/search-attributes.txt")
exec "$bin" server start-dev --db-filename "$db" --ip 127.0.0.1 --port "$port" --ui-port "$ui" \
  --log-level warn "${args[@]}"

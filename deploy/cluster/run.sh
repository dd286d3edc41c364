#!/usr/bin/env bash
# `make run-cluster`: the production shape on this machine. The real
# Temporal server on PostgreSQL (its four services as separate processes),
# its Web UI, two API replicas on one port, two workers, the MailDev inbox.
# Data under .data/cluster/ across runs; everything stopped on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
data="$root/.data/cluster"
logs="$data/logs"
mkdir -p "$logs"

export TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
export TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
export PG_PORT="${PG_PORT:-54330}"
SMTP_PORT="${SMTP_PORT:-1025}"
MAILDEV_PORT="${MAILDEV_PORT:-1080}"
API_PORT="${API_PORT:-8080}"
temporal="${TEMPORAL_CLI:?the Makefile sets TEMPORAL_CLI}"
server="${TEMPORAL_SERVER:?the Makefile sets TEMPORAL_SERVER}"
sqltool="${TEMPORAL_SQL_TOOL:?the Makefile sets TEMPORAL_SQL_TOOL}"
schema="${TEMPORAL_SCHEMA:?the Makefile sets TEMPORAL_SCHEMA (schema/postgresql/v12 of the server module)}"
uiserver="${TEMPORAL_UI_SERVER:?the Makefile sets TEMPORAL_UI_SERVER}"

# The same variables as production; only the addresses are this machine's.
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT" TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/procuration?sslmode=disable"
export SMTP_HOST=127.0.0.1 SMTP_PORT
export HTTP_ADDR="127.0.0.1:$API_PORT" PUBLIC_URL="http://127.0.0.1:$API_PORT" HTTP_REUSE_PORT=true
export ISSUER_KEY="$data/issuer.pem" PORTAL_ENCRYPTION_KEYS="$data/portal-encryption.pem"
export DEV_ISSUER=true
export TEMPORAL_DYNAMIC_CONFIG="$root/deploy/cluster/temporal/dynamicconfig.yaml"
deploy/dev/docs-assets.sh "$root/.data/docs"
if [ -f "$root/.data/docs/web-components.min.js" ]; then export DOCS_ASSETS="$root/.data/docs"; fi

pids=() supervisors=()
stop() { # exit status: 0 on Ctrl-C, that of the failure otherwise
  local rc="$1"
  trap - INT TERM EXIT
  echo
  echo "==> stopping"
  for pid in "${supervisors[@]}"; do kill "$pid" 2>/dev/null || true; done
  for f in "$data"/worker-*.pid "$data"/api-*.pid; do [ -f "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; }; rm -f "$f"; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/postgres.sh stop "$data/postgres" "$PG_PORT" || true
  echo "==> stopped; data kept in .data/cluster/"
  exit "$rc"
}
. deploy/dev/ports.sh
# The frontend's port and those cluster.yaml derives from it (history +1,
# matching +2, worker +6, HTTP +10, membership +100...), the services'
# metrics: one port each from TEMPORAL_METRICS_PORT (history, matching,
# frontend, worker), as cluster.yaml reads it per process.
metrics="${TEMPORAL_METRICS_PORT:-7290}"
for p in "$TEMPORAL_PORT" $((TEMPORAL_PORT + 1)) $((TEMPORAL_PORT + 2)) $((TEMPORAL_PORT + 6)) $((TEMPORAL_PORT + 10)) \
  $((TEMPORAL_PORT + 100)) $((TEMPORAL_PORT + 101)) $((TEMPORAL_PORT + 102)) $((TEMPORAL_PORT + 106)) \
  "$metrics" $((metrics + 1)) $((metrics + 2)) $((metrics + 3)) \
  "$TEMPORAL_UI_PORT" "$SMTP_PORT" "$MAILDEV_PORT" "$API_PORT"; do
  port_free "$p" || { echo "port $p is in use: is another 'make run' or 'make run-cluster' up? Stop it, or set the *_PORT variables." >&2; exit 1; }
done

trap 'stop 0' INT TERM
trap 'stop $?' EXIT
deploy/dev/postgres.sh start "$data/postgres" "$PG_PORT"

# Temporal's own databases, created and brought to the schema of this server
# version by its schema tool; update-schema is a no-op once they are current.
psql_pg() { deploy/dev/postgres.sh psql "$data/postgres" "$PG_PORT" -tA "$@"; }
for db in temporal temporal_visibility; do
  dir=temporal; [ "$db" = temporal_visibility ] && dir=visibility
  sql=("$sqltool" --plugin postgres12 --endpoint 127.0.0.1 --port "$PG_PORT" --user postgres --database "$db")
  if ! psql_pg -c "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
    echo "==> creating the $db database and its schema"
    "${sql[@]}" create-database >>"$logs/schema.log" 2>&1
    "${sql[@]}" setup-schema -v 0.0 >>"$logs/schema.log" 2>&1
  fi
  "${sql[@]}" update-schema -d "$schema/$dir/versioned" >>"$logs/schema.log" 2>&1 ||
    { echo "the schema of $db could not be updated; see $logs/schema.log" >&2; exit 1; }
done

echo "==> starting the Temporal server: frontend, history, matching and worker services"
start_service() { # service, its metrics port
  TEMPORAL_METRICS_PORT="$2" "$server" --root "$root" --config deploy/cluster/temporal --env cluster --allow-no-auth start --service "$1" \
    >>"$logs/temporal-$1.log" 2>&1 &
  pids+=($!)
}
# On new databases each service writes the cluster's metadata record if it
# finds none; two at once race and the loser exits ("Failed to apply cluster
# metadata"). History writes it alone, before it opens its port.
start_service history "$metrics"
wait_port "Temporal history" $((TEMPORAL_PORT + 1)) 120
start_service matching $((metrics + 1))
start_service frontend $((metrics + 2))
start_service worker $((metrics + 3))
wait_port "Temporal frontend" "$TEMPORAL_PORT" 120
for _ in $(seq 60); do
  if TEMPORAL_CLI="$temporal" deploy/temporal/create-namespace.sh >>"$logs/namespace.log" 2>&1; then break; fi
  sleep 1
done
for _ in $(seq 60); do
  if TEMPORAL_CLI="$temporal" deploy/temporal/register-search-attributes.sh >>"$logs/namespace.log" 2>&1; then break; fi
  sleep 1
done

echo "==> starting the Temporal Web UI"
"$uiserver" --root "$root/deploy/cluster" --config ui --env cluster start >>"$logs/ui.log" 2>&1 &
pids+=($!)

echo "==> starting the MailDev inbox"
deploy/dev/maildev.sh "$root/.data/maildev" "$SMTP_PORT" "$MAILDEV_PORT" >>"$logs/maildev.log" 2>&1 &
pids+=($!)
wait_port "MailDev" "$SMTP_PORT" 300

echo "==> migrating and loading the demo data"
bin/procuration migrate
bin/procuration seed

# Workers and API replicas are restarted 10 s after they exit, as an
# orchestrator would; the rest of the stack stops everything when it exits.
replica() { # role name
  while true; do
    bin/procuration "$1" >>"$logs/$2.log" 2>&1 &
    echo $! >"$data/$2.pid"
    wait $! || true
    echo "==> $2 exited; restarting it in 10 s" >>"$logs/$2.log"
    sleep 10
  done
}
echo "==> starting two workers and two API replicas on port $API_PORT"
for name in worker-1 worker-2; do replica worker "$name" & supervisors+=($!); done
for name in api-1 api-2; do replica api "$name" & supervisors+=($!); done
for _ in $(seq 60); do
  if curl -fsS "http://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$API_PORT/readyz" >/dev/null || { echo "the API is not ready; see $logs/api-*.log" >&2; exit 1; }

cat <<INFO

  Procurations is up, production-shaped.
    Portals, API     http://127.0.0.1:$API_PORT/   (two API replicas on the port; docs at /docs)
    Temporal Web UI  http://127.0.0.1:$TEMPORAL_UI_PORT
    Mail inbox       http://127.0.0.1:$MAILDEV_PORT
    Temporal         127.0.0.1:$TEMPORAL_PORT (frontend; history, matching, worker services beside it)
    PostgreSQL       postgres://postgres@127.0.0.1:$PG_PORT/   databases procuration, temporal, temporal_visibility
    Process ids      .data/cluster/{api,worker}-{1,2}.pid (restarted 10 s after they exit)     Logs .data/cluster/logs/
  Ctrl-C stops everything; the data stays in .data/cluster/.

INFO
wait -n "${pids[@]}" || true
echo "a process of the stack exited; see .data/cluster/logs/" >&2
exit 1

#!/usr/bin/env bash
# `make run`: the whole stack on this machine, data kept under .data/ across
# runs, everything stopped on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
data="$root/.data"
logs="$data/logs"
mkdir -p "$logs"

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
PG_PORT="${PG_PORT:-54329}"
SMTP_PORT="${SMTP_PORT:-1025}"
MAILDEV_PORT="${MAILDEV_PORT:-1080}"
API_PORT="${API_PORT:-8080}"
temporal="${TEMPORAL_CLI:?the Makefile sets TEMPORAL_CLI}"

export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/procuration?sslmode=disable"
export SMTP_HOST=127.0.0.1 SMTP_PORT
export HTTP_ADDR="127.0.0.1:$API_PORT" PUBLIC_URL="http://127.0.0.1:$API_PORT"
export ISSUER_KEY="$data/issuer.pem"
# The development issuer: `bin/procuration token` mints tokens this API accepts.
export DEV_ISSUER=true
deploy/dev/docs-assets.sh "$data/docs"
if [ -f "$data/docs/web-components.min.js" ]; then export DOCS_ASSETS="$data/docs"; fi

pids=()
stop() { # exit status: 0 on Ctrl-C, that of the failure otherwise
  local rc="$1"
  trap - INT TERM EXIT
  echo
  echo "==> stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  deploy/dev/postgres.sh stop "$data/postgres" "$PG_PORT" || true
  echo "==> stopped; data kept in .data/"
  exit "$rc"
}
. deploy/dev/ports.sh
for p in "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$SMTP_PORT" "$MAILDEV_PORT" "$API_PORT"; do
  port_free "$p" || { echo "port $p is in use: is another 'make run' up? Stop it, or set the *_PORT variables." >&2; exit 1; }
done

trap 'stop 0' INT TERM
trap 'stop $?' EXIT
deploy/dev/postgres.sh start "$data/postgres" "$PG_PORT"

echo "==> starting the MailDev inbox"
deploy/dev/maildev.sh "$data/maildev" "$SMTP_PORT" "$MAILDEV_PORT" >"$logs/maildev.log" 2>&1 &
pids+=($!)

echo "==> starting the Temporal dev server and its Web UI"
deploy/dev/temporal.sh "$temporal" "$data/temporal.db" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" >"$logs/temporal.log" 2>&1 &
pids+=($!)

wait_port "Temporal" "$TEMPORAL_PORT" 120
# A dev server whose data predates a new search attribute gets it here.
for _ in $(seq 30); do
  if TEMPORAL_CLI="$temporal" deploy/temporal/register-search-attributes.sh >/dev/null 2>&1; then break; fi
  sleep 1
done
wait_port "MailDev" "$SMTP_PORT" 300

echo "==> migrating and loading the demo data"
bin/procuration migrate
bin/procuration seed

echo "==> starting the worker and the API"
# The dev server keeps its data across runs: each rebuild's worker takes
# over the Worker Deployment, as a promoted release would.
WORKER_PROMOTE="${WORKER_PROMOTE:-always}" bin/procuration worker >"$logs/worker.log" 2>&1 &
pids+=($!)
bin/procuration api >"$logs/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  if curl -fsS "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$API_PORT/healthz" >/dev/null || { echo "the API is not healthy; see $logs/api.log" >&2; exit 1; }

cat <<INFO

  Procurations is up.
    Portals          http://127.0.0.1:$API_PORT/          grantor (FranceConnect, FranceConnect+)
                     http://127.0.0.1:$API_PORT/police    police and gendarmerie (ProConnect)
                     http://127.0.0.1:$API_PORT/mairie    town hall (ProConnect)
                     http://127.0.0.1:$API_PORT/support/droits   agents' rights (support)
    Campaign site    http://127.0.0.1:$API_PORT/c/planprocu-2027/   the demo matching platform (Plan Procu 2027)
    API              http://127.0.0.1:$API_PORT
    API docs         http://127.0.0.1:$API_PORT/docs   (OpenAPI: /openapi.json)
    Health           http://127.0.0.1:$API_PORT/healthz
    Temporal Web UI  http://127.0.0.1:$TEMPORAL_UI_PORT
    Mail inbox       http://127.0.0.1:$MAILDEV_PORT
    Temporal         127.0.0.1:$TEMPORAL_PORT   PostgreSQL  $DATABASE_URL
    Logs             .data/logs/

  Sign-in: the development FranceConnect, FranceConnect+ and ProConnect
  list the demo people (Marie DUPONT, Luc PETIT, Paul LEMAIRE OPJ, Inès
  GARNIER at Paris town hall, Sarah ROUX support...).
  Tokens: bin/procuration token --role police --sub opj-1 ...   (see README)
  Ctrl-C stops everything; the data stays in .data/.

INFO
wait -n "${pids[@]}" || true
echo "a process of the stack exited; see .data/logs/" >&2
exit 1

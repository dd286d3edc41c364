#!/usr/bin/env bash
# Creates the namespace on a self-hosted Temporal cluster if it is missing.
# Uses the temporal CLI with its usual settings (TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE, TEMPORAL_TLS_*). Idempotent. A closed dossier's history
# is kept RETENTION (default 30 days) for support, then deleted by the server.
# On Temporal Cloud, namespaces are created in the Cloud console or tcld.
set -euo pipefail
temporal="${TEMPORAL_CLI:-temporal}"
namespace="${TEMPORAL_NAMESPACE:-default}"
if "$temporal" operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  echo "namespace $namespace exists"
else
  "$temporal" operator namespace create --namespace "$namespace" --retention "${RETENTION:-720h}"
fi

#!/usr/bin/env bash
# Registers the custom search attributes on a Temporal cluster (self-hosted).
# Uses the temporal CLI with its usual settings: TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_API_KEY. Idempotent.
# On Temporal Cloud, create the same attributes in the namespace settings.
set -euo pipefail
here="$(dirname "$0")"
temporal="${TEMPORAL_CLI:-temporal}"
while read -r name type; do
  if "$temporal" operator search-attribute list -o json | grep -q "\"$name\""; then
    echo "$name exists"
  else
    "$temporal" operator search-attribute create --name "$name" --type "$type"
  fi
done < <(grep -v '^#' "$here/search-attributes.txt")

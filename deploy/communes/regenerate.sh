#!/usr/bin/env bash
# Regenerates internal/geo/communes.tsv.gz from the official list of communes
# published as the npm package @etalab/decoupage-administratif.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:-6.0.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@etalab/decoupage-administratif@$version" >/dev/null && tar xzf ./*.tgz)
go run ./internal/geo/gen "$work/package/data" internal/geo/communes.tsv.gz

#!/usr/bin/env bash
# Fetches the API docs renderer (Stoplight Elements) from npm into DIR, so that
# /docs works on a closed network (a police or town hall intranet, these
# machines). Usage: docs-assets.sh DIR. The API serves DIR when DOCS_ASSETS names it.
set -euo pipefail
dir="$1" version=9.0.15
if [ -f "$dir/web-components.min.js" ]; then exit 0; fi
command -v npm >/dev/null || { echo "npm not found: /docs will load its renderer from a CDN" >&2; exit 0; }
echo "==> fetching the API docs renderer (@stoplight/elements@$version) from npm"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@stoplight/elements@$version" >/dev/null && tar xzf ./*.tgz)
mkdir -p "$dir"
cp "$work/package/web-components.min.js" "$work/package/styles.min.css" "$dir/"

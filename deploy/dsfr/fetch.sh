#!/usr/bin/env bash
# Refreshes web/static/dsfr from the npm package @gouvfr/dsfr: the CSS, the
# module script, the woff2 fonts the CSS loads, the icons it masks with,
# the favicon. Usage: fetch.sh VERSION
set -euo pipefail
version="${1:?usage: fetch.sh VERSION (e.g. 1.15.3)}"
dest="$(cd "$(dirname "$0")/../.." && pwd)/web/static/dsfr"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@gouvfr/dsfr@$version" >/dev/null && tar xzf ./*.tgz)
dist="$work/package/dist"
mkdir -p "$dest/fonts" "$dest/favicon"
cp "$dist/dsfr.min.css" "$dist/dsfr.module.min.js" "$dest/"
cp "$dist"/fonts/Marianne-{Regular,Bold,Medium,Light,Regular_Italic}.woff2 "$dist"/fonts/Spectral-{Regular,ExtraBold}.woff2 "$dest/fonts/"
cp "$dist/favicon/favicon.svg" "$dest/favicon/"
rm -rf "$dest/icons"
grep -o 'url(icons/[^)]*)' "$dist/dsfr.min.css" | sed 's/^url(//; s/)$//' | sort -u | while read -r icon; do
  mkdir -p "$dest/$(dirname "$icon")"
  cp "$dist/$icon" "$dest/$icon"
done
cp "$work/package/LICENSE.md" "$dest/"
echo "web/static/dsfr now holds @gouvfr/dsfr $version"

#!/usr/bin/env bash
# Fetches the browser assets the offline maps inline (Leaflet's JS, CSS and images) into
# gis_enforcement/mapping/static/leaflet/ (git-ignored). Maps written by the platform embed these files, so
# they open on an intranet with no internet access.
# Safe to run again: does nothing when the files are already there. Needs `npm` (set-up time only).
set -euo pipefail

LEAFLET_VERSION="${LEAFLET_VERSION:-1.9.4}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/gis_enforcement/mapping/static/leaflet"

if [ -s "$DEST/leaflet.js" ] && [ -s "$DEST/leaflet.css" ] && [ -s "$DEST/images/layers.png" ] \
   && [ "$(cat "$DEST/VERSION" 2>/dev/null)" = "$LEAFLET_VERSION" ]; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-assets: npm is required to download leaflet@$LEAFLET_VERSION" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "fetching leaflet@$LEAFLET_VERSION (npm registry)"
( cd "$TMP" && npm pack --silent "leaflet@$LEAFLET_VERSION" >/dev/null )
tar -xzf "$TMP"/leaflet-*.tgz -C "$TMP"

mkdir -p "$DEST.tmp/images"
cp "$TMP/package/dist/leaflet.js" "$TMP/package/dist/leaflet.css" "$DEST.tmp/"
cp "$TMP/package/dist/images/"*.png "$DEST.tmp/images/"
cp "$TMP/package/LICENSE" "$DEST.tmp/LICENSE" 2>/dev/null || true
echo "$LEAFLET_VERSION" > "$DEST.tmp/VERSION"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
echo "leaflet@$LEAFLET_VERSION -> ${DEST#"$ROOT"/}"

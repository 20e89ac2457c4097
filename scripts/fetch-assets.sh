#!/usr/bin/env bash
# Fetches the browser assets from the npm registry at set-up (never at run time):
#   - Leaflet's JS, CSS and images into gis_enforcement/mapping/static/leaflet/ (git-ignored): the offline maps
#     inline them and the pages (/app) serve them, so both work on an intranet with no internet access;
#   - Swagger UI and ReDoc into gis_enforcement/mapping/static/swagger-ui/ and .../redoc/ (git-ignored): the API's
#     /docs and /redoc pages load them from the app itself, not from a CDN;
#   - axe-core into .cache/axe-core/ (git-ignored): the accessibility engine the browser tests run on the pages.
# Safe to run again: a package already there at the wanted version is not fetched again. Needs `npm`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# fetch NAME VERSION DEST FILE... — unpack the npm package NAME@VERSION and copy FILE... (paths inside it) to DEST
fetch() {
  local name="$1" version="$2" dest="$3"; shift 3
  if [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
    local f ok=1
    for f in "$@"; do [ -s "$dest/$(basename "$f")" ] || [ -s "$dest/${f#dist/}" ] || ok=0; done
    [ "$ok" = 1 ] && return 0
  fi
  command -v npm >/dev/null || { echo "fetch-assets: npm is required to download $name@$version" >&2; exit 1; }
  local tmp; tmp="$(mktemp -d)"
  echo "fetching $name@$version (npm registry)"
  ( cd "$tmp" && npm pack --silent "$name@$version" >/dev/null )
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  local f
  for f in "$@"; do
    local target="$dest.tmp/${f#dist/}"
    mkdir -p "$(dirname "$target")"
    cp "$tmp/package/$f" "$target"
  done
  cp "$tmp/package/LICENSE" "$dest.tmp/LICENSE" 2>/dev/null || cp "$tmp/package/LICENSE.txt" "$dest.tmp/LICENSE" 2>/dev/null || true
  echo "$version" > "$dest.tmp/VERSION"
  rm -rf "$dest" "$tmp"
  mv "$dest.tmp" "$dest"
  echo "$name@$version -> ${dest#"$ROOT"/}"
}

LEAFLET_VERSION="${LEAFLET_VERSION:-1.9.4}"
fetch leaflet "$LEAFLET_VERSION" "$ROOT/gis_enforcement/mapping/static/leaflet" \
  dist/leaflet.js dist/leaflet.css dist/images/layers.png dist/images/layers-2x.png \
  dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png

SWAGGER_UI_VERSION="${SWAGGER_UI_VERSION:-5.35.0}"
fetch swagger-ui-dist "$SWAGGER_UI_VERSION" "$ROOT/gis_enforcement/mapping/static/swagger-ui" \
  swagger-ui-bundle.js swagger-ui.css favicon-32x32.png

REDOC_VERSION="${REDOC_VERSION:-2.5.2}"
fetch redoc "$REDOC_VERSION" "$ROOT/gis_enforcement/mapping/static/redoc" bundles/redoc.standalone.js

AXE_VERSION="${AXE_VERSION:-4.10.3}"
fetch axe-core "$AXE_VERSION" "$ROOT/.cache/axe-core" axe.min.js

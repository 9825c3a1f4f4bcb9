#!/usr/bin/env bash
# Install the browser assets the map needs from the npm registry (pinned versions) into
# a git-ignored node_modules/ and copy their dist files to static/vendor/ (git-ignored),
# which Streamlit serves at /app/static/vendor/... No third-party file is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PKGS=(leaflet@1.9.4 leaflet.markercluster@1.5.3 topojson-client@3.1.0)
WORK="$ROOT/node_modules/.lsc-vendor"   # git-ignored (/node_modules/)
mkdir -p "$WORK"
if [ ! -f "$WORK/package.json" ]; then
  echo '{"name":"lsc-map-vendor","private":true}' > "$WORK/package.json"
fi
need=0
for p in "${PKGS[@]}"; do
  name="${p%@*}"; ver="${p##*@}"
  have="$(node -p "try{require('$WORK/node_modules/$name/package.json').version}catch(e){''}" 2>/dev/null || true)"
  [ "$have" = "$ver" ] || need=1
done
if [ "$need" = 1 ]; then
  (cd "$WORK" && npm install --no-audit --no-fund --save-exact --loglevel=error "${PKGS[@]}" >/dev/null)
fi
NM="$WORK/node_modules"
OUT="$ROOT/static/vendor"
TMP="$(mktemp -d "$ROOT/static/.vendor.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/leaflet" "$TMP/markercluster" "$TMP/topojson"
cp "$NM/leaflet/dist/leaflet.js" "$NM/leaflet/dist/leaflet.css" "$TMP/leaflet/"
cp -r "$NM/leaflet/dist/images" "$TMP/leaflet/"
cp "$NM/leaflet/LICENSE" "$TMP/leaflet/LICENSE"
cp "$NM/leaflet.markercluster/dist/leaflet.markercluster.js" \
   "$NM/leaflet.markercluster/dist/MarkerCluster.css" \
   "$NM/leaflet.markercluster/dist/MarkerCluster.Default.css" "$TMP/markercluster/"
cp "$NM/leaflet.markercluster/MIT-LICENCE.txt" "$TMP/markercluster/" 2>/dev/null || true
cp "$NM/topojson-client/dist/topojson-client.min.js" "$TMP/topojson/"
cp "$NM/topojson-client/LICENSE" "$TMP/topojson/" 2>/dev/null || true
rm -rf "$OUT.old"
[ -d "$OUT" ] && mv "$OUT" "$OUT.old"
mv "$TMP" "$OUT"
rm -rf "$OUT.old"
trap - EXIT
echo "vendored: ${PKGS[*]} -> static/vendor/"

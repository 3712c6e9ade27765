#!/usr/bin/env bash
# Fetch the browser assets the map page serves from webapp/static/vendor/ (the page makes no
# request off the machine). Only the npm registry is used; each tarball's sha512 is checked
# against the integrity the registry publishes before anything is copied.
set -euo pipefail

LEAFLET_VERSION=1.9.4

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/webapp/static/vendor/leaflet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "leaflet@${LEAFLET_VERSION}" >/dev/null
tarball="leaflet-${LEAFLET_VERSION}.tgz"
expected="$(npm view "leaflet@${LEAFLET_VERSION}" dist.integrity)"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$expected" != "$actual" ]]; then
    echo "integrity mismatch for $tarball: $actual != $expected" >&2
    exit 1
fi
tar xzf "$tarball"

rm -rf "$dest"
mkdir -p "$dest/images"
cp package/LICENSE package/dist/leaflet.js package/dist/leaflet.js.map package/dist/leaflet.css "$dest/"
cp package/dist/images/*.png "$dest/images/"
echo "leaflet ${LEAFLET_VERSION} -> ${dest#"$root"/}"

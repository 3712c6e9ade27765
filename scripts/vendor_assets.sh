#!/usr/bin/env bash
# Fetch the browser assets the map page serves from webapp/static/vendor/ (the page makes no
# request off the machine). Only the npm registry is used; each tarball's sha512 is checked
# against the integrity the registry publishes before anything is copied.
set -euo pipefail

LEAFLET_VERSION=1.9.4
VECTORGRID_VERSION=1.3.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# fetch NAME VERSION: the package's tarball, checked and unpacked into $work/NAME/package.
fetch() {
    local name="$1" version="$2"
    mkdir -p "$work/$name"
    (
        cd "$work/$name"
        npm pack --silent "${name}@${version}" >/dev/null
        local tarball="${name}-${version}.tgz"
        local expected actual
        expected="$(npm view "${name}@${version}" dist.integrity)"
        actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
        if [[ "$expected" != "$actual" ]]; then
            echo "integrity mismatch for $tarball: $actual != $expected" >&2
            exit 1
        fi
        tar xzf "$tarball"
    )
}

fetch leaflet "$LEAFLET_VERSION"
cd "$work/leaflet"
dest="$root/webapp/static/vendor/leaflet"

rm -rf "$dest"
mkdir -p "$dest/images"
cp package/LICENSE package/dist/leaflet.js package/dist/leaflet.js.map package/dist/leaflet.css "$dest/"
cp package/dist/images/*.png "$dest/images/"
echo "leaflet ${LEAFLET_VERSION} -> ${dest#"$root"/}"

# Leaflet.VectorGrid: the bundled build (pbf and vector-tile included) for the MVT layers.
fetch leaflet.vectorgrid "$VECTORGRID_VERSION"
cd "$work/leaflet.vectorgrid"
dest="$root/webapp/static/vendor/leaflet.vectorgrid"
rm -rf "$dest"
mkdir -p "$dest"
cp package/dist/Leaflet.VectorGrid.bundled.min.js "$dest/"
# The package ships its licence (Beerware, with the ISC/BSD notices of what it bundles)
# only in its README: keep that part as the LICENSE file.
sed -n '/^## Legalese/,$p' package/README.md >"$dest/LICENSE"
{ echo; echo "Bundled:"; grep -E '^\* \[[a-z-]+\]\(https://github.com/' package/README.md; } >>"$dest/LICENSE"
echo "leaflet.vectorgrid ${VECTORGRID_VERSION} -> ${dest#"$root"/}"

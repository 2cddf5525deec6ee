#!/usr/bin/env sh
# Builds the playground ICON on the local Docker engine: the icon-runtime base first (from the icon
# binary) if the engine lacks it, the dependencies from the npm registry (npm ci, package-lock.json),
# the server bundled (its packages left to node_modules) by the icon binary acting as Bun, then this folder's Dockerfile FROM the base.
# Tagged with the binary's version, as `icon bench migrate` looks for it (FROM the runtime of that version).
#   examples/playground-app/build.sh          -> icon-playground-app:<version>
#   TAG=x:1 RUNTIME=icon-runtime:0.1.0 ICON=dist/icon examples/playground-app/build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ICON=${ICON:-$(command -v icon || echo "$here/../../dist/icon")}
version=$("$ICON" version | tr -c 'A-Za-z0-9_.\n-' '-')
TAG=${TAG:-icon-playground-app:$version}
RUNTIME=${RUNTIME:-icon-runtime:$version}
if ! docker image inspect "$RUNTIME" >/dev/null 2>&1; then
  repo=${RUNTIME%%:*}
  "$ICON" runtime build --repo "$repo" >&2
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$here/Dockerfile" "$ctx/"
npm ci --omit=dev --no-audit --no-fund --loglevel=error --prefix "$ctx" >&2
BUN_BE_BUN=1 "$ICON" build "$here/server.ts" --target bun --minify --packages external --outfile "$ctx/server.js" >&2
docker build -q --build-arg RUNTIME="$RUNTIME" -t "$TAG" "$ctx" >/dev/null
echo "$TAG"

#!/usr/bin/env sh
# Builds the example ICON image on the local Docker engine, with no registry: the icon-runtime base
# image first (from the icon binary) if the engine lacks it, then this folder FROM it.
#   examples/hello-icon/build.sh             -> hello-icon:latest
#   TAG=x:1 RUNTIME=icon-runtime:0.1.0 ICON=dist/icon examples/hello-icon/build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ICON=${ICON:-$(command -v icon || echo "$here/../../dist/icon")}
TAG=${TAG:-hello-icon:latest}
RUNTIME=${RUNTIME:-icon-runtime:latest}
if ! docker image inspect "$RUNTIME" >/dev/null 2>&1; then
  repo=${RUNTIME%%:*}
  "$ICON" runtime build --repo "$repo" >&2
fi
docker build -q --build-arg RUNTIME="$RUNTIME" -t "$TAG" "$here" >/dev/null
echo "$TAG"

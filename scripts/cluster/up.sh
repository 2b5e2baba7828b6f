#!/usr/bin/env bash
# npm run cluster:up — a single-node kind cluster named "skein", idempotent.
#   1. Docker (Debian docker.io) installed and running with skein-runc (ensure-docker.sh)
#   2. base images debian:bookworm-slim / node:24-bookworm-slim (images/base/build.sh)
#   3. kind and kubectl from the Go module proxy; the node image: the stock kindest/node when a
#      registry answers, otherwise assembled offline (build-node-image.sh)
#   4. kind create cluster, then wait for the node to be Ready and CoreDNS to answer
# Env: SKEIN_CLUSTER (default skein), SKEIN_NODE_IMAGE (force a node image),
#      SKEIN_OFFLINE=1 (skip the registry probe).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/versions.sh"
export PATH="$K8S_BIN_DIR:$(dirname "$KIND_BIN"):$PATH"
CLUSTER="${SKEIN_CLUSTER:-skein}"
KUBECONFIG_OUT="$SKEIN_CACHE/kubeconfig-$CLUSTER"
t0=$SECONDS

bash "$here/ensure-docker.sh"
bash "$root/images/base/build.sh"
bash "$here/build-tools.sh" kind
bash "$here/build-k8s.sh"

# The stock node image kind $KIND_VERSION was released with, if a registry can be reached.
stock_image="$(sed -n 's/^const Image = "\(.*\)"/\1/p' "$GOMODCACHE/sigs.k8s.io/kind@$KIND_VERSION/pkg/apis/config/defaults/image.go")"
image="${SKEIN_NODE_IMAGE:-}"
offline=1
if [[ -z $image ]]; then
  if [[ ${SKEIN_OFFLINE:-0} != 1 ]] && { docker image inspect "$stock_image" >/dev/null 2>&1 || timeout 300 docker pull -q "$stock_image" >/dev/null 2>&1; }; then
    image="$stock_image"; offline=0
    log "using the stock node image $image"
  else
    log "no registry reachable: assembling the node image offline"
    bash "$here/build-node-image.sh"
    image="skein/kind-node:$K8S_VERSION"
  fi
elif [[ $image == kindest/* ]]; then
  offline=0
fi

config="$(mktemp)"
trap 'rm -f "$config"' EXIT
{
  echo "kind: Cluster"
  echo "apiVersion: kind.x-k8s.io/v1alpha4"
  echo "networking:"
  echo "  podSubnet: 10.244.0.0/16"
  echo "  serviceSubnet: 10.96.0.0/16"
  # the offline image has no kindnetd image; it carries a static ptp CNI config instead
  [[ $offline == 1 ]] && echo "  disableDefaultCNI: true"
  echo "nodes:"
  echo "  - role: control-plane"
} > "$config"

running() { docker inspect -f '{{.State.Running}}' "$CLUSTER-control-plane" 2>/dev/null | grep -q true; }
create() {
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER" && kind delete cluster --name "$CLUSTER"
  log "creating cluster $CLUSTER from $image"
  kind create cluster --name "$CLUSTER" --image "$image" --config "$config" --wait 0s --retain \
    2>&1 | tee "$SKEIN_LOGS/kind-create.log" || {
      kind export logs "$SKEIN_LOGS/kind-$CLUSTER" --name "$CLUSTER" >/dev/null 2>&1 || true
      # a half-made node would otherwise pass for a cluster on the next run
      kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
      die "kind create cluster failed; node logs in $SKEIN_LOGS/kind-$CLUSTER"
    }
}
# The API server answers /readyz and authorises the admin (RBAC bootstrap done) within $1 seconds.
# A node container that dockerd has just restarted answers 403 Forbidden for a while before its
# RBAC policies load, so one failed call means nothing.
api_ready() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    if kubectl get --raw /readyz >/dev/null 2>&1 && kubectl get nodes >/dev/null 2>&1; then return 0; fi
    sleep 2
  done
  return 1
}
use_kubeconfig() {
  kind get kubeconfig --name "$CLUSTER" > "$KUBECONFIG_OUT"
  kind export kubeconfig --name "$CLUSTER" >/dev/null   # also the current context of ~/.kube/config
  export KUBECONFIG="$KUBECONFIG_OUT"
}
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER" && running; then
  log "cluster $CLUSTER exists; waiting for its API server"
  use_kubeconfig
  if ! api_ready 180; then
    log "cluster $CLUSTER did not become ready in 180s; recreating it"
    create
  fi
else
  create
fi
use_kubeconfig
log "waiting for the API server"
api_ready 300 || die "the API server of cluster $CLUSTER did not become ready in 300s"
log "waiting for the node to be Ready"
kubectl wait --for=condition=Ready node --all --timeout=300s >/dev/null
log "waiting for CoreDNS"
kubectl -n kube-system rollout status deployment/coredns --timeout=300s >/dev/null
bash "$here/dns-probe.sh" "$CLUSTER-control-plane" \
  "$(kubectl -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}')" kubernetes.default.svc.cluster.local

log "cluster $CLUSTER up in $((SECONDS - t0))s: $(kubectl version -o json | jq -r .serverVersion.gitVersion), node image $image"
log "kubeconfig: $KUBECONFIG_OUT (and the current context of ~/.kube/config); kubectl: $KUBECTL"

#!/usr/bin/env bash
# Assembles the kind node image offline, the way `kind build node-image` would if it could
# reach a registry:
#   1. a debootstrapped Debian root file system with systemd, containerd, runc, CNI plugins;
#   2. kind's base files (entrypoint, containerd config, kubelet units) from kind's module
#      source, plus skein-runc as the node's runc and crictl  -> skein/kind-base
#   3. kubeadm/kubelet/kubectl in /usr/bin, /kind/version, and the control-plane images
#      (built here from the module-proxy binaries) imported into the node's containerd under
#      the exact names `kubeadm config images list` prints      -> $NODE_IMAGE
# Idempotent: the image carries a hash of its inputs and is rebuilt only when they change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/versions.sh"

NODE_IMAGE="${NODE_IMAGE:-skein/kind-node:$K8S_VERSION}"
BASE_IMAGE="skein/kind-base:$KIND_VERSION-$DEBIAN_SUITE"
ROOTFS_IMAGE="skein/kind-node-rootfs:$DEBIAN_SUITE"
NODE_PACKAGES="systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,socat,ipset,ebtables,iputils-ping,dnsutils"

kind_src="$GOMODCACHE/sigs.k8s.io/kind@$KIND_VERSION"
[[ -d $kind_src ]] || (cd /tmp && go mod download "sigs.k8s.io/kind@$KIND_VERSION")

inputs_hash="$(cat "$here/versions.sh" "$here/build-node-image.sh" "$here/skein-runc" \
  "$root"/images/kind-node/Dockerfile "$root"/images/kind-node/cni/* "$root"/images/kind-node/default-storage.yaml \
  "$root"/images/k8s/Dockerfile "$root"/images/k8s/iptables-select "$root"/images/pause/main.go | sha256sum | cut -c1-16)"
if [[ $(docker image inspect -f '{{index .Config.Labels "skein.inputs"}}' "$NODE_IMAGE" 2>/dev/null) == "$inputs_hash" ]]; then
  log "node image $NODE_IMAGE is up to date"
  exit 0
fi

bash "$here/build-tools.sh" crictl
bash "$root/images/base/build.sh" debian

# --- 1. root file system -------------------------------------------------------------------
if ! docker image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1; then
  tar="$(bash "$here/rootfs.sh" kind-node "$NODE_PACKAGES")"
  log "importing $tar as $ROOTFS_IMAGE"
  docker import "$tar" "$ROOTFS_IMAGE" >/dev/null
fi

# --- 2. kind base ---------------------------------------------------------------------------
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/kind"
cp -r "$kind_src/images/base/files/." "$ctx/kind/"
chmod -R u+w "$ctx"
cp "$here/skein-runc" "$CRICTL_BIN" "$ctx/"
cp -r "$root/images/kind-node/cni" "$root/images/kind-node/default-storage.yaml" "$ctx/"
log "building $BASE_IMAGE"
docker build -q --build-arg "ROOTFS=$ROOTFS_IMAGE" -t "$BASE_IMAGE" -f "$root/images/kind-node/Dockerfile" "$ctx" >/dev/null

[[ ${1:-} == --base-only ]] && exit 0
bash "$here/build-k8s.sh"
bash "$here/build-tools.sh" pause coredns etcd

# --- 3a. control-plane images ---------------------------------------------------------------
component_image() { # name binary-path tag [apt packages]
  local name="$1" bin="$2" tag="$3" pkgs="${4:-}"
  local c; c="$(mktemp -d)"
  cp "$bin" "$c/$name" && chmod 0755 "$c/$name"
  mkdir "$c/extra"
  if [[ $name == kube-proxy ]]; then
    for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
      cp "$root/images/k8s/iptables-select" "$c/extra/$t"
    done
  fi
  docker build -q --build-arg "BINARY=$name" --build-arg "PACKAGES=$pkgs" -t "$tag" \
    -f "$root/images/k8s/Dockerfile" "$c" >/dev/null
  rm -rf "$c"
  log "image $tag"
}
mapfile -t want < <("$K8S_BIN_DIR/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
((${#want[@]} >= 7)) || die "kubeadm config images list printed: ${want[*]}"
images=()
for ref in "${want[@]}"; do
  name="${ref##*/}"; name="${name%%:*}"
  case "$name" in
    kube-proxy) component_image kube-proxy "$K8S_BIN_DIR/kube-proxy" "$ref" "iptables conntrack ipset kmod" ;;
    kube-*) component_image "$name" "$K8S_BIN_DIR/$name" "$ref" ;;
    etcd) component_image etcd "$ETCD_BIN" "$ref" ;;
    coredns) component_image coredns "$COREDNS_BIN" "$ref" ;;
    pause)
      component_image pause "$SKEIN_CACHE/pause-$PAUSE_VERSION/pause" "$ref"
      # kind's containerd config names its own sandbox image; give it the same bits
      sandbox="$(sed -n 's/^ *sandbox_image *= *"\(.*\)"/\1/p' "$kind_src/images/base/files/etc/containerd/config.toml")"
      if [[ -n $sandbox && $sandbox != "$ref" ]]; then docker tag "$ref" "$sandbox"; images+=("$sandbox"); fi ;;
    *) die "kubeadm wants an image this script does not know how to build: $ref" ;;
  esac
  images+=("$ref")
done

# --- 3b. node image -------------------------------------------------------------------------
log "assembling $NODE_IMAGE"
cid="$(docker run -d --privileged --entrypoint=sleep "$BASE_IMAGE" infinity)"
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; rm -rf "$ctx"' EXIT
for b in kubeadm kubelet kubectl; do
  docker cp "$K8S_BIN_DIR/$b" "$cid:/usr/bin/$b"
done
docker exec "$cid" sh -c "chown root:root /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl && printf %s '$K8S_VERSION' > /kind/version"
docker exec "$cid" bash -c 'nohup containerd > /var/log/containerd-build.log 2>&1 &'
docker exec "$cid" bash -c 'for i in $(seq 30); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; cat /var/log/containerd-build.log; exit 1'
docker save "${images[@]}" | docker exec -i "$cid" ctr --namespace=k8s.io images import \
  --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
imported="$(docker exec "$cid" ctr --namespace=k8s.io images list -q)"
for ref in "${images[@]}"; do
  grep -qx "$ref" <<< "$imported" || die "image $ref missing in the node's containerd after import"
done
# PID 1 here is `sleep`, which reaps nobody: a stopped containerd lingers as a zombie
docker exec "$cid" bash -c 'pkill -x containerd; for i in $(seq 30); do ps -C containerd -o stat= | grep -qv Z || exit 0; sleep 1; done; exit 1'
docker exec "$cid" rm -rf /var/log/containerd-build.log /run/containerd
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change "LABEL skein.inputs=$inputs_hash" \
  "$cid" "$NODE_IMAGE" >/dev/null
log "node image $NODE_IMAGE ready ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | numfmt --to=iec))"

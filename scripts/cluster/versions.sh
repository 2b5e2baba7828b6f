# Pinned versions and cache locations for Skein's cluster tooling.
# Sourced by every script under scripts/cluster/ and images/; change a version here only.

export SKEIN_CACHE="${SKEIN_CACHE:-/var/cache/skein}"
export SKEIN_LOGS="$SKEIN_CACHE/logs"

# Go toolchain caches live outside the work tree so a fresh clone reuses them.
export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$SKEIN_CACHE/go/mod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$SKEIN_CACHE/go/build}"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export CGO_ENABLED=0

KIND_VERSION=v0.30.0
K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.5          # kubeadm v1.34 expects registry.k8s.io/etcd:3.6.5-0
COREDNS_VERSION=v1.12.1       # kubeadm v1.34 CoreDNSVersion
CRICTL_VERSION=v1.34.0
PAUSE_VERSION=3.10.1           # kubeadm v1.34 PauseVersion
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
NODE_PKG_VERSION=24.21.0
JAEGER_VERSION=v1.76.0       # module version; the binary is Jaeger v2
PROMETHEUS_VERSION=v0.316.0   # module version of Prometheus 3.16.0

# Where built tools land; each directory is keyed by its version.
KIND_BIN="$SKEIN_CACHE/kind-$KIND_VERSION/kind"
K8S_BIN_DIR="$SKEIN_CACHE/k8s-$K8S_VERSION/bin"
KUBECTL="$K8S_BIN_DIR/kubectl"
ETCD_BIN="$SKEIN_CACHE/etcd-$ETCD_VERSION/etcd"
COREDNS_BIN="$SKEIN_CACHE/coredns-$COREDNS_VERSION/coredns"
CRICTL_BIN="$SKEIN_CACHE/crictl-$CRICTL_VERSION/crictl"

# Go builds share 2 cores with other work: keep them polite.
export GOMAXPROCS="${GOMAXPROCS:-2}"
NICE="nice -n 15"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

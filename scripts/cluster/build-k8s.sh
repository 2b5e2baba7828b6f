#!/usr/bin/env bash
# Builds the Kubernetes components (kubeadm, kubelet, kubectl, kube-apiserver,
# kube-controller-manager, kube-scheduler, kube-proxy) from the Go module proxy.
#
# `go install k8s.io/kubernetes/cmd/...` is refused because k8s.io/kubernetes replaces its
# staging modules with local paths, so this script generates a throwaway wrapper module
# that requires k8s.io/kubernetes and maps every staging module to its published v0.Y.Z
# release, then builds the commands with the version ldflags kubeadm checks.
# Output: $K8S_BIN_DIR (cached; a second run is a no-op).
# Usage: build-k8s.sh [--force] [command ...]   (default: all seven commands)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"

force=""
if [[ "${1:-}" == "--force" ]]; then force=1; shift; fi
cmds=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
(($#)) && cmds=("$@")
if [[ -z $force ]]; then
  missing=0
  for c in "${cmds[@]}"; do [[ -x "$K8S_BIN_DIR/$c" ]] || missing=1; done
  [[ $missing == 0 ]] && { log "kubernetes $K8S_VERSION already built in $K8S_BIN_DIR"; exit 0; }
fi

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging_version="v0.${K8S_VERSION#v1.}"
work="$SKEIN_CACHE/k8s-$K8S_VERSION/wrapper"
mkdir -p "$work" "$K8S_BIN_DIR"
cd "$work"

log "fetching k8s.io/kubernetes@$K8S_VERSION go.mod"
gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod)"
[[ -f "$gomod" ]] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION"
gover="$(awk '$1=="go"{print $2; exit}' "$gomod")"

{
  echo "module skein.local/k8s-build"
  echo
  echo "go $gover"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  # every `k8s.io/<name> => ./staging/src/k8s.io/<name>` becomes the published release
  awk '/=> \.\/staging\/src\//{print $1}' "$gomod" | sed 's/^replace$//' | while read -r m; do
    [[ -n "$m" ]] && echo "replace $m => $m $staging_version"
  done
} > go.mod
# the replace block may be written as `replace ( ... )`; catch both forms
if ! grep -q '^replace k8s.io/api ' go.mod; then
  die "could not derive staging replaces from $gomod"
fi
cat > tools.go <<'GO'
//go:build tools

package tools
GO

now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ld=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ld+=" -X $pkg.gitCommit=skein-module-proxy-build -X $pkg.gitTreeState=clean -X $pkg.buildDate=$now"
done

for c in "${cmds[@]}"; do
  if [[ -x "$K8S_BIN_DIR/$c" && -z $force ]]; then continue; fi
  log "building $c $K8S_VERSION"
  start=$SECONDS
  $NICE go build -trimpath -ldflags "-s -w $ld" -o "$K8S_BIN_DIR/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  mv "$K8S_BIN_DIR/$c.tmp" "$K8S_BIN_DIR/$c"
  log "built $c in $((SECONDS - start))s"
done
log "kubernetes $K8S_VERSION: ${cmds[*]} in $K8S_BIN_DIR"

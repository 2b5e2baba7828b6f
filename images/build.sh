#!/usr/bin/env bash
# npm run images — builds Skein's images from this checkout and loads them into the kind
# cluster (when one is up):
#   skein/skeind:<tag>      control plane           images/skeind/Dockerfile
#   skein/proxy:<tag>       skein-agent + skein-proxy, UID 1337, plus the iptables init step
#   skein/echo:<tag>        the echo test app (e2e/src/echo)
#   skein/prometheus:<v>    Prometheus 3 from the Go module proxy
#   skein/jaeger:<v>        Jaeger from the Go module proxy (skipped with SKEIN_SKIP_JAEGER=1)
# The Skein images are built from the workspace's build output (packages/*/dist, e2e/dist,
# bin/) plus production node_modules, staged outside the work tree.
# Env: SKEIN_IMAGE_TAG (default dev), SKEIN_CLUSTER (default skein).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$root/scripts/cluster/versions.sh"
export PATH="$root/node_modules/.bin:$PATH"
TAG="${SKEIN_IMAGE_TAG:-dev}"
CLUSTER="${SKEIN_CLUSTER:-skein}"
PROMETHEUS_IMAGE="skein/prometheus:v3.${PROMETHEUS_VERSION#v0.3}"
JAEGER_IMAGE="skein/jaeger:$JAEGER_VERSION"
t0=$SECONDS

bash "$root/scripts/cluster/ensure-docker.sh"
bash "$here/base/build.sh"

# --- the workspace's build output -----------------------------------------------------------
[[ -x $root/node_modules/.bin/nx ]] || (cd "$root" && npm ci --no-audit --no-fund)
log "building the workspace (nx run-many -t build)"
(cd "$root" && NX_DAEMON=false NX_NO_CLOUD=true nx run-many -t build --outputStyle=static >"$SKEIN_LOGS/images-nx-build.log" 2>&1) \
  || { tail -n 40 "$SKEIN_LOGS/images-nx-build.log"; die "workspace build failed (log: $SKEIN_LOGS/images-nx-build.log)"; }

stage="$SKEIN_CACHE/images/stage"
rm -rf "$stage" && mkdir -p "$stage/app"
cp "$root/package.json" "$root/package-lock.json" "$stage/app/"
[[ -d $root/bin ]] && cp -a "$root/bin" "$stage/app/bin"
# every npm workspace (package.json "workspaces" globs) that has a package.json
mapfile -t workspaces < <(cd "$root" && for g in $(jq -r '.workspaces[]' package.json); do
  for d in $g; do [[ -f $d/package.json ]] && echo "$d"; done
done)
for rel in "${workspaces[@]}"; do
  pkg="$root/$rel"
  mkdir -p "$stage/app/$rel"
  cp "$pkg/package.json" "$stage/app/$rel/"
  [[ -d $pkg/dist ]] && cp -a "$pkg/dist" "$stage/app/$rel/dist"
done
find "$stage/app" -name '*.tsbuildinfo' -delete
log "installing production dependencies into the staged workspace"
(cd "$stage/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

built=()
build() { # image dockerfile context [build-args...]
  local image="$1" dockerfile="$2" context="$3"
  shift 3
  log "building $image"
  docker build -q "$@" -t "$image" -f "$dockerfile" "$context" >/dev/null
  built+=("$image")
}

if [[ -x $root/bin/skeind ]]; then
  build "skein/skeind:$TAG" "$here/skeind/Dockerfile" "$stage"
  docker run --rm "skein/skeind:$TAG" --help > "$SKEIN_LOGS/skeind-help.txt" 2>&1 \
    || die "skein/skeind:$TAG --help failed: $(cat "$SKEIN_LOGS/skeind-help.txt")"
else
  log "WARNING: bin/skeind is missing in this checkout; skein/skeind not built"
fi
if [[ -x $root/bin/skein-agent && -x $root/bin/skein-proxy ]]; then
  build "skein/proxy:$TAG" "$here/proxy/Dockerfile" "$stage"
  docker run --rm "skein/proxy:$TAG" --help > "$SKEIN_LOGS/skein-agent-help.txt" 2>&1 \
    || die "skein/proxy:$TAG (skein-agent --help) failed: $(cat "$SKEIN_LOGS/skein-agent-help.txt")"
  docker run --rm --entrypoint /app/bin/skein-proxy "skein/proxy:$TAG" --help > "$SKEIN_LOGS/skein-proxy-help.txt" 2>&1 \
    || die "skein/proxy:$TAG (skein-proxy --help) failed: $(cat "$SKEIN_LOGS/skein-proxy-help.txt")"
  [[ $(docker run --rm --entrypoint id "skein/proxy:$TAG" -u) == 1337 ]] || die "skein/proxy does not run as UID 1337"
else
  log "WARNING: bin/skein-agent or bin/skein-proxy is missing in this checkout; skein/proxy not built"
fi
[[ -f $stage/app/e2e/dist/echo/main.js ]] || die "e2e/dist/echo/main.js missing after the build"
build "skein/echo:$TAG" "$here/echo/Dockerfile" "$stage"

# images built from a Go binary: rebuilt when their Dockerfile changes
binary_image() { # image name dockerfile-dir
  local image="$1" name="$2" dir="$3" sum bin
  sum="$(sha256sum "$dir/Dockerfile" | cut -c1-12)"
  if [[ $(docker image inspect -f '{{index .Config.Labels "skein.dockerfile"}}' "$image" 2>/dev/null) == "$sum" ]]; then
    built+=("$image")
    return 0
  fi
  bash "$root/scripts/cluster/build-tools.sh" "$name" > "$SKEIN_LOGS/$name.log" 2>&1 \
    || die "$name build failed: $(tail -n 20 "$SKEIN_LOGS/$name.log")"
  case "$name" in
    prometheus) bin="$SKEIN_CACHE/prometheus-$PROMETHEUS_VERSION/prometheus" ;;
    jaeger) bin="$SKEIN_CACHE/jaeger-$JAEGER_VERSION/jaeger" ;;
  esac
  local ctx; ctx="$(mktemp -d)"
  cp "$bin" "$ctx/$name"
  build "$image" "$dir/Dockerfile" "$ctx" --label "skein.dockerfile=$sum"
  rm -rf "$ctx"
}

binary_image "$PROMETHEUS_IMAGE" prometheus "$here/prometheus"
if [[ ${SKEIN_SKIP_JAEGER:-0} != 1 ]]; then
  binary_image "$JAEGER_IMAGE" jaeger "$here/jaeger"
fi

printf '%s\n' "${built[@]}" > "$SKEIN_CACHE/images-$TAG.txt"
kind_bin="$KIND_BIN"
if [[ -x $kind_bin ]] && "$kind_bin" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "loading into kind cluster $CLUSTER: ${built[*]}"
  "$kind_bin" load docker-image --name "$CLUSTER" "${built[@]}" >/dev/null
else
  log "no kind cluster $CLUSTER: images built, not loaded (run npm run cluster:up, then npm run images)"
fi
log "images ready in $((SECONDS - t0))s: ${built[*]}"

#!/usr/bin/env bash
# Ensures the host tools the cluster needs (Debian's docker.io, debootstrap, jq, ...) are
# installed and that dockerd runs with skein-runc as its default runtime. Idempotent.
# There is no systemd on these machines, so dockerd is started here, in the background.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"

[[ $(id -u) == 0 ]] || die "must run as root (installs packages, starts dockerd)"
mkdir -p "$SKEIN_LOGS"

packages=(docker.io debootstrap jq iptables curl ca-certificates golang-go)
need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
# golang-go is only a fallback when no Go toolchain is on PATH
if command -v go >/dev/null; then need=("${need[@]/golang-go}"); fi
read -r -a need <<< "${need[*]}"
if ((${#need[@]})); then
  log "installing ${need[*]}"
  stamp="$SKEIN_CACHE/apt-updated"
  if [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +720) ]]; then
    apt-get update -qq && touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

install -D -m 0755 "$here/skein-runc" /usr/local/lib/skein/skein-runc

want_cfg='{
  "runtimes": { "skein-runc": { "path": "/usr/local/lib/skein/skein-runc" } },
  "default-runtime": "skein-runc",
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "log-opts": { "max-size": "20m" }
}'
mkdir -p /etc/docker
restart=0
if [[ ! -f /etc/docker/daemon.json ]] || ! diff -q <(jq -S . /etc/docker/daemon.json) <(jq -S . <<< "$want_cfg") >/dev/null; then
  log "writing /etc/docker/daemon.json"
  printf '%s\n' "$want_cfg" > /etc/docker/daemon.json
  restart=1
fi

dockerd_pid() { pgrep -x dockerd || true; }
if [[ -n $(dockerd_pid) && $restart == 1 ]]; then
  log "restarting dockerd to apply the runtime"
  kill "$(dockerd_pid)"
  for _ in $(seq 60); do [[ -z $(dockerd_pid) ]] && break; sleep 1; done
fi
start_dockerd() {
  log "starting dockerd (log: $SKEIN_LOGS/dockerd.log)"
  # containerd is started by dockerd itself when no system containerd is running
  setsid nohup /usr/sbin/dockerd >> "$SKEIN_LOGS/dockerd.log" 2>&1 < /dev/null &
}
# A dockerd that is shutting down (stopping its containers takes up to 10 s) is waited out and
# then started again, rather than taken for a running one.
for _ in $(seq 90); do
  docker info >/dev/null 2>&1 && break
  [[ -z $(dockerd_pid) ]] && start_dockerd
  sleep 1
done
docker info >/dev/null 2>&1 || die "dockerd did not come up; see $SKEIN_LOGS/dockerd.log"
rt="$(docker info --format '{{.DefaultRuntime}}')"
[[ $rt == skein-runc ]] || die "docker default runtime is $rt, expected skein-runc"
log "docker $(docker version --format '{{.Server.Version}}') up, default runtime $rt, cgroup $(docker info --format '{{.CgroupVersion}}')"

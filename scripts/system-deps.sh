#!/usr/bin/env bash
# Installs the Debian packages the tests use (an independent protobuf implementation for the
# wire-compatibility test, iptables and iproute2 for interception tests), only when missing.
set -euo pipefail
want=(protobuf-compiler libprotobuf-dev iptables iproute2)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "skein: missing Debian packages: ${missing[*]} (run as root to install)" >&2; exit 1; fi
  echo "skein: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

#!/usr/bin/env bash
# rootfs.sh NAME [PACKAGE,...]: builds a Debian root file system with debootstrap (minbase
# variant plus the given packages) and caches it as $SKEIN_CACHE/rootfs/NAME-<suite>.tar.
# Prints the tarball's path. A cached tarball is reused; delete it to rebuild.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"

name="$1" include="${2:-}"
out="$SKEIN_CACHE/rootfs/$name-$DEBIAN_SUITE.tar"
if [[ -s $out ]]; then echo "$out"; exit 0; fi
mkdir -p "$SKEIN_CACHE/rootfs"
dir="$(mktemp -d "$SKEIN_CACHE/rootfs/$name.XXXX")"
trap 'rm -rf "$dir"' EXIT
log "debootstrap $DEBIAN_SUITE ($name) ${include:+with $include}"
start=$SECONDS
$NICE debootstrap --variant=minbase ${include:+--include="$include"} \
  "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR" > "$SKEIN_LOGS/debootstrap-$name.log" 2>&1 \
  || die "debootstrap failed, see $SKEIN_LOGS/debootstrap-$name.log"
cat > "$dir/etc/apt/sources.list" <<SRC
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main
SRC
# like the official slim images: no apt lists, caches or docs in the image
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
  "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
: > "$dir/etc/resolv.conf"
: > "$dir/etc/hostname"
tar --numeric-owner -C "$dir" -cf "$out.tmp" . && mv "$out.tmp" "$out"
log "rootfs $name ready in $((SECONDS - start))s: $(du -h "$out" | cut -f1)"
echo "$out"

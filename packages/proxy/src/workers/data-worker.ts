// A worker thread of `--concurrency N`: a proxy without xDS or admin of its own, bound to the same
// ports with SO_REUSEPORT (a port 0: the primary's), applying the updates the primary forwards, one at a time, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { RunningProxy } from '../proxy.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-pool.js';
import { releaseWhenIdle } from '../util/idle-release.js';
import { releaseStartupMemory } from '../util/release-memory.js';

const data = workerData as WorkerData;
const port = parentPort;
if (!port) throw new Error('data-worker must run in a worker thread');
const post = (m: FromWorker): void => port.postMessage(m);

const proxy = new RunningProxy(data.bootstrap, data.unsupported, {
  logLevel: data.logLevel,
  worker: { id: data.id, role: 'worker' },
});
let queue: Promise<unknown> = Promise.resolve();

port.on('message', (m: ToWorker) => {
  if (m.kind === 'xds') {
    queue = queue.then(() => proxy.applyForwarded(m.update)).catch(() => undefined);
  } else if (m.kind === 'serve') {
    queue = queue.then(() => proxy.serveHeld(m.ports)).catch(() => undefined);
  } else if (m.kind === 'stats') {
    void proxy.istio.registry
      .getMetricsAsJSON()
      .then((istio) => post({ kind: 'stats', id: m.id, raw: proxy.stats.raw(), istio }));
  } else {
    void queue.then(() => proxy.stop()).then(() => post({ kind: 'stopped' }));
  }
});

proxy
  .start()
  .then(() => {
    post({ kind: 'ready' });
    void proxy.waitReady().then(() =>
      setImmediate(() => {
        releaseStartupMemory();
        releaseWhenIdle();
      }),
    );
  })
  .catch((err: unknown) => post({ kind: 'error', error: err instanceof Error ? err.message : String(err) }));

// `--concurrency N`: N threads serve traffic on the same ports (SO_REUSEPORT, the kernel spreads
// connections). The main thread is worker 0 and the primary: it alone runs xDS, SDS and admin.
// A listener on port 0 is bound by the primary first; the ports it got travel with every
// forwarded update and with 'serve', and the workers bind those, so all accept on one port.
// Every update it accepts is forwarded, in order, to the other workers, which apply exactly the
// same sequence — each worker swaps a resource in one step, so no request sees half of an update.
// Workers hold their listeners unbound until the primary's start is over (its clusters warm, its
// first LDS/RDS in), as Envoy starts its workers only then.
// Admin stats and Istio metrics are summed over all workers.
import { Worker } from 'node:worker_threads';
import { RunningProxy, type ForwardedUpdate, type ProxyOptions } from '../proxy.js';
import type { BootstrapJson } from '../bootstrap/load-bootstrap.js';
import type { Stat } from '../stats/stats-store.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export interface WorkerData {
  bootstrap: BootstrapJson;
  unsupported: string[];
  id: number;
  logLevel: NonNullable<ProxyOptions['logLevel']>;
}

export type ToWorker =
  | { kind: 'xds'; update: ForwardedUpdate }
  | { kind: 'serve'; ports: Record<string, number> }
  | { kind: 'stats'; id: number }
  | { kind: 'stop' };
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'stats'; id: number; raw: Stat[]; istio: MetricObjectWithValues<MetricValue<string>>[] }
  | { kind: 'error'; error: string }
  | { kind: 'stopped' };

export interface WorkerPool {
  primary: RunningProxy;
  workers: number;
  stop(): Promise<void>;
}

function waitFor<K extends FromWorker['kind']>(
  w: Worker,
  kind: K,
): Promise<Extract<FromWorker, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const on = (m: FromWorker): void => {
      if (m.kind === 'error') {
        w.off('message', on);
        reject(new Error(m.error));
      } else if (m.kind === kind) {
        w.off('message', on);
        resolve(m as Extract<FromWorker, { kind: K }>);
      }
    };
    w.on('message', on);
    w.once('error', reject);
  });
}

export async function startWorkerPool(
  bootstrap: BootstrapJson,
  unsupported: string[],
  options: ProxyOptions,
  concurrency: number,
): Promise<WorkerPool> {
  const workers: Worker[] = [];
  const url = new URL('./worker-entry.js', import.meta.url);
  for (let id = 1; id < concurrency; id++) {
    const data: WorkerData = { bootstrap, unsupported, id, logLevel: options.logLevel ?? 'info' };
    const w = new Worker(url, { workerData: data });
    workers.push(w);
    await waitFor(w, 'ready');
  }
  let nextId = 0;
  const primary = new RunningProxy(bootstrap, unsupported, {
    ...options,
    worker: { id: 0, role: 'primary' },
    onApplied: (applied) => {
      // The primary applied it (a new listener is bound): its ports go with it.
      const update = { ...applied, ports: primary.listenerPorts() };
      for (const w of workers) w.postMessage({ kind: 'xds', update } satisfies ToWorker);
    },
    peerStats: () =>
      Promise.all(
        workers.map(async (w) => {
          const id = ++nextId;
          const reply = new Promise<Extract<FromWorker, { kind: 'stats' }>>((resolve) => {
            const on = (m: FromWorker): void => {
              if (m.kind === 'stats' && m.id === id) {
                w.off('message', on);
                resolve(m);
              }
            };
            w.on('message', on);
          });
          w.postMessage({ kind: 'stats', id } satisfies ToWorker);
          const r = await reply;
          return { raw: r.raw, istio: r.istio };
        }),
      ),
  });
  // The primary binds first; the workers' updates already posted are applied before 'serve'.
  void primary.waitReady().then(() => {
    const ports = primary.listenerPorts();
    for (const w of workers) w.postMessage({ kind: 'serve', ports } satisfies ToWorker);
  });
  await primary.start();
  return {
    primary,
    workers: concurrency,
    stop: async () => {
      await primary.stop();
      await Promise.all(
        workers.map(async (w) => {
          const stopped = waitFor(w, 'stopped').catch(() => undefined);
          w.postMessage({ kind: 'stop' } satisfies ToWorker);
          await stopped;
          await w.terminate();
        }),
      );
    },
  };
}

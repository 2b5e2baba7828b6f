/**
 * Waiting on the cluster by polling its state (never by sleeping a fixed time): a condition,
 * a Deployment or DaemonSet rollout, pods matching a selector being Ready.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from './cluster.js';

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** Polls `probe` until it returns a value other than undefined; the last error/state is in the timeout message. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  let last = 'no result yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}

export async function waitForRollout(
  cluster: Cluster,
  kind: 'Deployment' | 'DaemonSet',
  namespace: string,
  name: string,
  opts: WaitOptions = {},
): Promise<void> {
  await waitFor(
    `${kind} ${namespace}/${name} to roll out`,
    async () => {
      if (kind === 'Deployment') {
        const d = await cluster.apps.readNamespacedDeployment({ name, namespace });
        const want = d.spec?.replicas ?? 1;
        const s = d.status;
        const done =
          (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
          (s?.updatedReplicas ?? 0) === want &&
          (s?.availableReplicas ?? 0) === want &&
          (s?.replicas ?? 0) === want;
        if (!done) throw new Error(`status ${JSON.stringify(s ?? {})}`);
        return true;
      }
      const ds = await cluster.apps.readNamespacedDaemonSet({ name, namespace });
      const s = ds.status;
      const want = s?.desiredNumberScheduled ?? 0;
      const done =
        want > 0 &&
        (s?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 1) &&
        (s?.updatedNumberScheduled ?? 0) === want &&
        (s?.numberAvailable ?? 0) === want;
      if (!done) throw new Error(`status ${JSON.stringify(s ?? {})}`);
      return true;
    },
    opts,
  );
}

export async function readyPods(
  cluster: Cluster,
  namespace: string,
  labelSelector: string,
): Promise<V1Pod[]> {
  const list = await cluster.core.listNamespacedPod({ namespace, labelSelector });
  return list.items.filter(
    (p) =>
      p.metadata?.deletionTimestamp === undefined &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
  );
}

export async function waitForPods(
  cluster: Cluster,
  namespace: string,
  labelSelector: string,
  count = 1,
  opts: WaitOptions = {},
): Promise<V1Pod[]> {
  return waitFor(
    `${count} ready pod(s) ${labelSelector} in ${namespace}`,
    async () => {
      const pods = await readyPods(cluster, namespace, labelSelector);
      if (pods.length < count) throw new Error(`${pods.length} ready`);
      return pods;
    },
    opts,
  );
}

// skeinctl uninstall against a ClusterApi: deletes what uninstallPlan lists (webhooks, skeind and
// its namespaced objects, the cluster-scoped RBAC; with purge the namespace and the CRDs too) and
// waits until every one of them is gone.
import { describeRef, type ClusterApi } from './cluster-api.js';
import type { Deletion, UninstallPlan } from './plan.js';
import { formatDuration } from './status.js';

export interface UninstallOptions {
  readonly timeoutMs: number;
  readonly wait: boolean;
  readonly out: (line: string) => void;
  readonly pollMs?: number;
  readonly now?: () => number;
}

export interface UninstallResult {
  readonly removed: readonly string[];
  readonly absent: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function uninstall(
  api: ClusterApi,
  plan: UninstallPlan,
  o: UninstallOptions,
): Promise<UninstallResult> {
  const now = o.now ?? Date.now;
  const start = now();
  const deadline = start + o.timeoutMs;
  const version = await api.version();
  o.out(`Removing Skein from ${api.server} (context ${api.context}, Kubernetes ${version})`);
  const removed: string[] = [];
  const absent: string[] = [];
  const stages = [...new Set(plan.deletions.map((d) => d.stage))].sort((a, b) => a - b);
  for (const stage of stages) {
    const deleted: Deletion[] = [];
    for (const d of plan.deletions.filter((x) => x.stage === stage)) {
      const name = describeRef(d.ref);
      if (await api.delete(d.ref, d.propagation)) {
        removed.push(name);
        deleted.push(d);
        o.out(`  ${name} deleted`);
      } else {
        absent.push(name);
        o.out(`  ${name} not found`);
      }
    }
    if (o.wait && deleted.length > 0) await waitGone(api, deleted, deadline, o);
  }
  o.out(
    `✔ Skein removed in ${formatDuration(now() - start)}: ${removed.length} deleted, ${absent.length} not found`,
  );
  for (const k of plan.kept) o.out(`  kept: ${k}`);
  o.out(
    '  Pods injected earlier keep their sidecars until restarted; the istio-ca-root-cert ConfigMaps skeind published stay (as Istio leaves them).',
  );
  return { removed, absent };
}

async function waitGone(
  api: ClusterApi,
  deleted: readonly Deletion[],
  deadline: number,
  o: UninstallOptions,
): Promise<void> {
  const now = o.now ?? Date.now;
  o.out(`… waiting for ${deleted.length} objects to be gone`);
  let left = deleted;
  for (;;) {
    const still = [];
    for (const d of left) if (await api.get(d.ref)) still.push(d);
    left = still;
    if (left.length === 0) return;
    if (now() + (o.pollMs ?? 500) > deadline)
      throw new Error(
        `timed out after ${formatDuration(o.timeoutMs)} waiting for deletion of: ${left.map((d) => describeRef(d.ref)).join(', ')}` +
          ' (a namespace waits for everything in it; a Deployment deleted in the foreground waits for its pods)',
      );
    await sleep(o.pollMs ?? 500);
  }
}

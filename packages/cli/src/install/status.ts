// Reading the state install waits for, without I/O: a CRD Established, a Deployment rolled out
// (kubectl rollout status's rules), the validator enforcing, and — when a wait runs out — the
// Deployment's conditions, its pods' states and their warning events in a few readable lines.
import type { KubeObject } from './objects.js';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

const conditions = (o: KubeObject): Condition[] =>
  ((o['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []) as Condition[];

export function crdEstablished(crd: KubeObject): boolean {
  return conditions(crd).some((c) => c.type === 'Established' && c.status === 'True');
}

export interface Rollout {
  readonly done: boolean;
  /** Set when the Deployment gave up (progressDeadlineSeconds exceeded). */
  readonly failed: boolean;
  readonly message: string;
}

interface DeploymentState {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
}

/** Whether the Deployment's current spec is rolled out and available, as `kubectl rollout status`. */
export function rolloutStatus(deployment: KubeObject): Rollout {
  const d = deployment as unknown as DeploymentState;
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0))
    return { done: false, failed: false, message: 'waiting for the new spec to be observed' };
  const stalled = conditions(deployment).find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stalled) return { done: false, failed: true, message: `rollout stalled: ${stalled.message ?? ''}` };
  const updated = s.updatedReplicas ?? 0;
  const total = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  if (updated < want)
    return { done: false, failed: false, message: `${updated} of ${want} replicas updated` };
  if (total > updated)
    return { done: false, failed: false, message: `${total - updated} old replicas pending termination` };
  if (available < updated)
    return { done: false, failed: false, message: `${available} of ${updated} updated replicas available` };
  return { done: true, failed: false, message: `${available} of ${want} replicas available` };
}

/** True when every webhook of the validating configuration fails closed. */
export function validatorEnforcing(cfg: KubeObject): boolean {
  const hooks = (cfg['webhooks'] as { failurePolicy?: string }[] | undefined) ?? [];
  return hooks.length > 0 && hooks.every((h) => h.failurePolicy === 'Fail');
}

/** `Available=False (MinimumReplicasUnavailable): Deployment does not have minimum availability.` */
export function describeConditions(o: KubeObject): string[] {
  return conditions(o).map(
    (c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`,
  );
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; exitCode?: number };
    running?: object;
  };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

interface PodState {
  metadata: { name: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** One line per pod: its phase, why it is not scheduled or not ready, each container's trouble. */
export function describePods(pods: readonly KubeObject[], events: readonly KubeObject[] = []): string[] {
  const lines: string[] = [];
  if (pods.length === 0) lines.push('no pods (the ReplicaSet has created none: see the events)');
  for (const obj of pods) {
    const p = obj as unknown as PodState;
    const parts = [
      `pod ${p.metadata.name}: ${p.metadata.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Unknown')}`,
    ];
    const unscheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled) parts.push(`not scheduled (${unscheduled.reason ?? ''}): ${unscheduled.message ?? ''}`);
    else if (!p.status?.conditions?.some((c) => c.type === 'PodScheduled'))
      parts.push('not scheduled yet (no scheduler has seen it)');
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
      const w = c.state?.waiting;
      const last = c.lastState?.terminated;
      if (w)
        parts.push(`container ${c.name} waiting: ${w.reason ?? ''}${w.message ? ` — ${w.message}` : ''}`);
      else if (c.state?.terminated)
        parts.push(
          `container ${c.name} terminated: ${c.state.terminated.reason ?? ''} (exit ${c.state.terminated.exitCode ?? '?'})`,
        );
      else if (c.state?.running && !c.ready) parts.push(`container ${c.name} running, not ready`);
      if ((c.restartCount ?? 0) > 0)
        parts.push(
          `container ${c.name} restarted ${c.restartCount} times${last ? `, last exit ${last.exitCode ?? '?'} (${last.reason ?? ''})` : ''}`,
        );
    }
    lines.push(parts.join('; '));
  }
  for (const e of events) {
    const ev = e as unknown as {
      type?: string;
      reason?: string;
      message?: string;
      involvedObject?: { name?: string };
    };
    if (ev.type !== 'Warning') continue;
    lines.push(`event ${ev.involvedObject?.name ?? ''}: ${ev.reason ?? ''}: ${ev.message ?? ''}`);
  }
  return lines;
}

/** `5m0s`, `1m30s`, `42s`, `1.5s`: how Kubernetes tools print durations. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}h` : ''}${m}m${s % 60}s`;
}

/** Go-style durations as kubectl and istioctl take them: `5m`, `90s`, `1m30s`, `1h`, `500ms`. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let ms = 0;
  let pos = 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ms += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    pos = re.lastIndex;
  }
  if (text === '' || pos !== text.length || ms <= 0)
    throw new Error(`not a duration: ${JSON.stringify(text)} (want e.g. 5m, 90s, 1m30s)`);
  return ms;
}

// Which security policies apply to a workload: the root namespace (mesh-wide) and the workload's
// own namespace, with or without a label selector — Istio's attachment rules.
import type { ObjectMeta, PolicyWorkloadSelector } from '@skein/api-types';

/** The workload a policy is evaluated for. */
export interface WorkloadView {
  namespace: string;
  labels: Record<string, string>;
}

export interface PolicyLike {
  metadata: ObjectMeta;
  spec: { selector?: PolicyWorkloadSelector };
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export function selectorMatches(
  sel: PolicyWorkloadSelector | undefined,
  labels: Record<string, string>,
): boolean {
  return Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/** Whether a namespaced policy attaches to the workload (root namespace = mesh-wide). */
export function policyApplies(p: PolicyLike, w: WorkloadView, rootNamespace: string): boolean {
  const ns = p.metadata.namespace ?? 'default';
  if (ns !== w.namespace && ns !== rootNamespace) return false;
  return selectorMatches(p.spec.selector, w.labels);
}

/** Istio's tie-break between policies of one level: oldest first, then by namespace/name. */
export function oldestFirst<T extends PolicyLike>(a: T, b: T): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const nb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

// The set of objects analyze looks at: mesh objects plus the Kubernetes objects (Services,
// workloads, Secrets) found in the same files, which stand for the cluster's contents.
import type { MeshObject } from '@skein/api-types';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
}

export interface Located<T> {
  readonly object: T;
  /** file[#document] */
  readonly origin: string;
}

export interface World {
  readonly mesh: readonly Located<MeshObject>[];
  readonly kube: readonly Located<KubeObject>[];
  readonly domainSuffix: string;
}

export const nsOf = (o: { metadata: { namespace?: string } }): string => o.metadata.namespace ?? 'default';
export const idOf = (o: { kind: string; metadata: { name: string; namespace?: string } }): string =>
  `${o.kind} ${nsOf(o)}/${o.metadata.name}`;

/** The fully qualified form of a host as Istio resolves it from a rule in namespace `ns`. */
export function fqdn(host: string, ns: string, suffix: string): string {
  if (host.includes('*')) return host;
  if (host.endsWith(`.${suffix}`)) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${ns}.${suffix}`;
  if (parts.length === 2 && !host.includes(':')) return `${host}.${suffix}`; // name.namespace
  return host;
}

/** Labels of the pods each workload object (Pod, Deployment, StatefulSet, DaemonSet, ...) would run. */
export function workloadLabels(o: KubeObject): Record<string, string> | undefined {
  if (o.kind === 'Pod') return o.metadata.labels ?? {};
  const template = (o.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined)
    ?.metadata;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind))
    return template?.labels ?? {};
  return undefined;
}

/** True when a wildcard host pattern ("*.example.com", "*") covers a host. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

// The service view: every service the mesh knows, from ServiceEntries (with inline endpoints
// or WorkloadEntries selected by label) and from registries such as Kubernetes. Conflict rule
// for one hostname: a Kubernetes service beats a ServiceEntry; among ServiceEntries the oldest
// (creationTimestamp, then namespace/name) wins for proxies outside the defining namespaces,
// while a proxy always sees the definition in its own namespace first.
import { fqdn, labelsMatch } from './hosts.js';
import type { ServiceEntry, WorkloadEntry, WorkloadEntrySpec } from './istio-types.js';
import { protocolOf, type Protocol } from './protocol.js';

export interface ServicePort {
  readonly number: number;
  readonly name: string;
  readonly protocol: Protocol;
  readonly targetPort?: number | undefined;
  /** A Kubernetes targetPort given by name (resolved per pod through its EndpointSlice). */
  readonly targetPortName?: string | undefined;
}

/** One endpoint workload of a service. */
export interface Workload {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  /** Port name → port on the workload. */
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly locality: string;
  readonly weight: number;
  readonly serviceAccount: string;
  readonly network: string;
}

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';

export interface Service {
  readonly hostname: string;
  readonly namespace: string;
  readonly addresses: readonly string[];
  readonly ports: readonly ServicePort[];
  readonly resolution: Resolution;
  readonly location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  readonly exportTo: readonly string[] | undefined;
  readonly workloads: readonly Workload[];
  readonly workloadSelector?: Readonly<Record<string, string>> | undefined;
  /**
   * A Kubernetes Service's pod selector. A sidecar whose pod it selects serves the service's
   * ports inbound even before its pod is a ready endpoint (the proxy's readiness is what makes
   * the pod ready, so waiting for the endpoint would deadlock or leave inbound config stale).
   */
  readonly podSelector?: Readonly<Record<string, string>> | undefined;
  readonly subjectAltNames: readonly string[];
  /** Where it came from: `ServiceEntry ns/name` or `Kubernetes ns/name`. */
  readonly origin: string;
  readonly registry: 'Kubernetes' | 'ServiceEntry';
  /** Ordering key for conflicts: older first. */
  readonly createdAt: string;
}

/**
 * What clusters (not endpoints) derive from a service's workloads: whether there are any, their
 * service accounts (the SANs a client verifies) and their `security.istio.io/tlsMode` labels (auto
 * mTLS). Endpoint changes that keep this equal need an EDS push only.
 */
export function clusterFactsOfWorkloads(s: Service): string {
  const facts = new Set(
    s.workloads.map((w) => `${w.serviceAccount}|${w.labels['security.istio.io/tlsMode'] ?? ''}`),
  );
  return `${s.workloads.length > 0}:${[...facts].sort().join(',')}`;
}

/** The port on the workload that serves a service port. */
export function endpointPort(w: Workload, p: ServicePort): number {
  return w.ports[p.name] ?? p.targetPort ?? p.number;
}

function workloadFrom(
  spec: WorkloadEntrySpec,
  name: string,
  namespace: string,
  fallbackLabels: Readonly<Record<string, string>>,
): Workload | undefined {
  if (!spec.address) return undefined;
  return {
    name,
    namespace,
    address: spec.address,
    ports: spec.ports ?? {},
    labels: spec.labels ?? fallbackLabels,
    locality: spec.locality ?? '',
    weight: spec.weight ?? 1,
    serviceAccount: spec.serviceAccount ?? 'default',
    network: spec.network ?? '',
  };
}

const RESOLUTIONS: readonly Resolution[] = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'];

/** Services defined by ServiceEntries, with WorkloadEntries joined by workloadSelector. */
export function servicesFromServiceEntries(
  entries: readonly ServiceEntry[],
  workloadEntries: readonly WorkloadEntry[],
): Service[] {
  const out: Service[] = [];
  const selectable = workloadEntryIndex(workloadEntries);
  for (const se of entries) {
    const ns = se.metadata.namespace ?? 'default';
    const spec = se.spec;
    const selector = spec.workloadSelector?.labels;
    const selected = selector
      ? selectable(ns, selector).filter(({ labels }) => labelsMatch(selector, labels))
      : [];
    // The same ServiceEntry joined with the same WorkloadEntries gives the same Service objects
    // as last time: unchanged services keep their identity from one snapshot to the next.
    const cached = built.get(se);
    if (
      cached &&
      cached.selected.length === selected.length &&
      cached.selected.every((x, i) => x === selected[i]?.we)
    ) {
      out.push(...cached.services);
      continue;
    }
    const first = out.length;
    const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
      number: p.number,
      name: p.name ?? `port-${p.number}`,
      protocol: protocolOf({ protocol: p.protocol, name: p.name }),
      targetPort: p.targetPort,
    }));
    const workloads: Workload[] = [];
    (spec.endpoints ?? []).forEach((e, i) => {
      const w = workloadFrom(e, `${se.metadata.name}-${i}`, ns, {});
      if (w) workloads.push(w);
    });
    for (const { we, labels } of selected) {
      const w = workloadFrom({ ...we.spec, labels }, we.metadata.name, ns, labels);
      if (w) workloads.push(w);
    }
    const resolution = RESOLUTIONS.find((r) => r === spec.resolution) ?? 'NONE';
    for (const host of spec.hosts ?? []) {
      out.push({
        hostname: fqdn(host, ns),
        namespace: ns,
        addresses: spec.addresses ?? [],
        ports,
        resolution,
        location: spec.location === 'MESH_EXTERNAL' ? 'MESH_EXTERNAL' : 'MESH_INTERNAL',
        exportTo: spec.exportTo,
        workloads,
        workloadSelector: selector,
        subjectAltNames: spec.subjectAltNames ?? [],
        origin: `ServiceEntry ${ns}/${se.metadata.name}`,
        registry: 'ServiceEntry',
        createdAt: se.metadata.creationTimestamp ?? '',
      });
    }
    built.set(se, { selected: selected.map((x) => x.we), services: out.slice(first) });
  }
  return out;
}

/** The services last built from a ServiceEntry, and the WorkloadEntries they joined. */
const built = new WeakMap<
  ServiceEntry,
  { selected: readonly WorkloadEntry[]; services: readonly Service[] }
>();

interface Selectable {
  readonly we: WorkloadEntry;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * WorkloadEntries by namespace and by each `label=value` they carry, in their original order:
 * a selector's candidates are the entries carrying its first label (all of the namespace for an
 * empty selector), so joining N ServiceEntries with M WorkloadEntries is not N × M.
 */
function workloadEntryIndex(
  workloadEntries: readonly WorkloadEntry[],
): (ns: string, selector: Readonly<Record<string, string>>) => readonly Selectable[] {
  const byNs = new Map<string, Selectable[]>();
  const byLabel = new Map<string, Selectable[]>();
  const push = <K>(m: Map<K, Selectable[]>, k: K, v: Selectable): void => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const we of workloadEntries) {
    const ns = we.metadata.namespace ?? 'default';
    const entry = { we, labels: we.spec.labels ?? we.metadata.labels ?? {} };
    push(byNs, ns, entry);
    for (const [k, v] of Object.entries(entry.labels)) push(byLabel, JSON.stringify([ns, k, v]), entry);
  }
  return (ns, selector) => {
    const first = Object.entries(selector)[0];
    if (!first) return byNs.get(ns) ?? [];
    return byLabel.get(JSON.stringify([ns, first[0], first[1]])) ?? [];
  };
}

/** Orders the definitions of one hostname so that index 0 wins (see the module comment). */
export function conflictOrder(a: Service, b: Service): number {
  if (a.registry !== b.registry) return a.registry === 'Kubernetes' ? -1 : 1;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  const ka = `${a.namespace}/${a.origin}`;
  const kb = `${b.namespace}/${b.origin}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

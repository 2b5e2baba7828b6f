// The immutable snapshot translation reads (Istio's PushContext): the mesh config, the merged
// service view and the routing objects, indexed once per change. Built by a pure function from
// the config objects and the registries' services.
import { fqdn, hostMatches, hostSpecificity, labelsMatch, visibleTo } from './hosts.js';
import type {
  ConfigObject,
  DestinationRule,
  Gateway,
  ServiceEntry,
  Sidecar,
  VirtualService,
  WorkloadEntry,
} from './istio-types.js';
import type { MeshConfig } from './mesh-config.js';
import { discoveredNamespaces, NO_NAMESPACES, type NamespaceLabels } from './namespaces.js';
import { conflictOrder, servicesFromServiceEntries, type Service } from './services.js';

export interface Snapshot {
  readonly version: string;
  readonly mesh: MeshConfig;
  /** Every service definition, sorted by hostname then conflict order. */
  readonly services: readonly Service[];
  readonly servicesByHost: ReadonlyMap<string, readonly Service[]>;
  readonly virtualServices: readonly VirtualService[];
  readonly destinationRules: readonly DestinationRule[];
  readonly sidecars: readonly Sidecar[];
  readonly gateways: readonly Gateway[];
  readonly workloadEntries: readonly WorkloadEntry[];
  /** Every object by kind, for translation that plugs in from outside (security, telemetry). */
  readonly byKind: ReadonlyMap<string, readonly ConfigObject[]>;
  /** Kubernetes namespaces and their labels (empty in directory mode). */
  readonly namespaces: NamespaceLabels;
}

export interface SnapshotInput {
  readonly version: string;
  readonly mesh: MeshConfig;
  readonly objects: readonly ConfigObject[];
  /** Services from registries other than ServiceEntry (e.g. Kubernetes). */
  readonly registryServices?: readonly Service[];
  /** Kubernetes namespaces and their labels. */
  readonly namespaces?: NamespaceLabels | undefined;
}

const ns = (o: ConfigObject): string => o.metadata.namespace ?? 'default';

/** Istio's order between objects of one kind: oldest first, then namespace/name. */
function byAge(a: ConfigObject, b: ConfigObject): number {
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  const ka = `${ns(a)}/${a.metadata.name}`;
  const kb = `${ns(b)}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function buildSnapshot(input: SnapshotInput): Snapshot {
  const byKind = new Map<string, ConfigObject[]>();
  // MeshConfig discoverySelectors: objects and services of other namespaces are left out.
  const admitted = discoveredNamespaces(input.mesh.discoverySelectors, input.namespaces ?? NO_NAMESPACES);
  const objects = admitted ? input.objects.filter((o) => admitted.has(ns(o))) : input.objects;
  for (const o of objects) {
    const list = byKind.get(o.kind) ?? [];
    list.push(o);
    byKind.set(o.kind, list);
  }
  for (const list of byKind.values()) list.sort(byAge);
  const kind = <T extends ConfigObject>(k: string): T[] => (byKind.get(k) ?? []) as T[];
  const workloadEntries = kind<WorkloadEntry>('WorkloadEntry');
  const services = [
    ...(input.registryServices ?? []).filter((s) => !admitted || admitted.has(s.namespace)),
    ...servicesFromServiceEntries(kind<ServiceEntry>('ServiceEntry'), workloadEntries),
  ].sort((a, b) => (a.hostname !== b.hostname ? (a.hostname < b.hostname ? -1 : 1) : conflictOrder(a, b)));
  const servicesByHost = new Map<string, Service[]>();
  for (const s of services) {
    const list = servicesByHost.get(s.hostname) ?? [];
    list.push(s);
    servicesByHost.set(s.hostname, list);
  }
  return {
    version: input.version,
    mesh: input.mesh,
    services,
    servicesByHost,
    virtualServices: kind<VirtualService>('VirtualService'),
    destinationRules: kind<DestinationRule>('DestinationRule'),
    sidecars: kind<Sidecar>('Sidecar'),
    gateways: kind<Gateway>('Gateway'),
    workloadEntries,
    byKind,
    namespaces: input.namespaces ?? NO_NAMESPACES,
  };
}

/** The definition of a hostname a proxy in `namespace` uses (its own namespace's first). */
export function serviceFor(snap: Snapshot, host: string, namespace: string): Service | undefined {
  const defs = snap.servicesByHost.get(host);
  if (!defs) return undefined;
  const visible = defs.filter((s) => visibleTo(s.exportTo, s.namespace, namespace));
  return visible.find((s) => s.namespace === namespace) ?? visible[0];
}

/** The hosts of a VirtualService, expanded to FQDNs in its namespace. */
export function virtualServiceHosts(vs: VirtualService): string[] {
  return (vs.spec.hosts ?? []).map((h) => fqdn(h, ns(vs)));
}

/**
 * The VirtualService that routes `host` for a proxy in `namespace` through `gateway` (`mesh`
 * for sidecars): the most specific host match, then the oldest. Istio does not merge two
 * VirtualServices for one host; neither do we.
 */
export function virtualServiceFor(
  snap: Snapshot,
  host: string,
  namespace: string,
  gateway = 'mesh',
): VirtualService | undefined {
  const index = virtualServiceIndex(snap);
  const admits = (vs: VirtualService): boolean => {
    if (!visibleTo(vs.spec.exportTo, ns(vs), namespace)) return false;
    const gws = vs.spec.gateways && vs.spec.gateways.length > 0 ? vs.spec.gateways : ['mesh'];
    return gws.some((g) => g === gateway || (gateway !== 'mesh' && fqdnGateway(g, ns(vs)) === gateway));
  };
  // An exact host beats every wildcard; among exact matches the first (oldest) wins.
  for (const vs of index.exact.get(host) ?? []) if (admits(vs)) return vs;
  let best: VirtualService | undefined;
  let bestScore = -1;
  for (const { vs, pattern } of index.wildcards) {
    if (!hostMatches(pattern, host) || !admits(vs)) continue;
    const score = hostSpecificity(pattern);
    if (score > bestScore) {
      best = vs;
      bestScore = score;
    }
  }
  return best;
}

interface VirtualServiceIndex {
  /** Exact host → VirtualServices naming it, in snapshot order. */
  readonly exact: ReadonlyMap<string, readonly VirtualService[]>;
  /** Wildcard host patterns in snapshot order. */
  readonly wildcards: readonly { readonly vs: VirtualService; readonly pattern: string }[];
}

const vsIndexes = new WeakMap<Snapshot, VirtualServiceIndex>();

/** VirtualServices by host, built once per snapshot (lookups run once per service and class). */
function virtualServiceIndex(snap: Snapshot): VirtualServiceIndex {
  let index = vsIndexes.get(snap);
  if (index) return index;
  const exact = new Map<string, VirtualService[]>();
  const wildcards: { vs: VirtualService; pattern: string }[] = [];
  for (const vs of snap.virtualServices)
    for (const h of virtualServiceHosts(vs)) {
      if (h.startsWith('*')) wildcards.push({ vs, pattern: h });
      else {
        const list = exact.get(h) ?? [];
        if (!list.includes(vs)) list.push(vs);
        exact.set(h, list);
      }
    }
  index = { exact, wildcards };
  vsIndexes.set(snap, index);
  return index;
}

/** `gw` or `ns/gw` → `ns/gw`. */
export function fqdnGateway(name: string, namespace: string): string {
  return name.includes('/') ? name : `${namespace}/${name}`;
}

/**
 * The DestinationRule for `host` seen from a proxy in `namespace` with `labels`: Istio's lookup
 * order — the proxy's namespace, then the service's namespace, then the root namespace; within
 * one namespace the most specific host.
 */
export function destinationRuleFor(
  snap: Snapshot,
  host: string,
  namespace: string,
  labels: Readonly<Record<string, string>> = {},
): DestinationRule | undefined {
  const serviceNs = serviceFor(snap, host, namespace)?.namespace;
  const order = [namespace, serviceNs, snap.mesh.rootNamespace].filter((n): n is string => n !== undefined);
  for (const candidateNs of order) {
    let best: DestinationRule | undefined;
    let bestScore = -1;
    for (const dr of destinationRulesIn(snap, candidateNs)) {
      if (!visibleTo(dr.spec.exportTo, ns(dr), namespace)) continue;
      if (
        dr.spec.workloadSelector &&
        (ns(dr) !== namespace || !labelsMatch(dr.spec.workloadSelector.matchLabels, labels))
      )
        continue;
      const h = fqdn(dr.spec.host, ns(dr));
      if (!hostMatches(h, host)) continue;
      const score = hostSpecificity(h);
      if (score > bestScore) {
        best = dr;
        bestScore = score;
      }
    }
    if (best) return best;
  }
  return undefined;
}

const drIndexes = new WeakMap<Snapshot, Map<string, DestinationRule[]>>();

/** The DestinationRules of one namespace in snapshot order (indexed once per snapshot). */
function destinationRulesIn(snap: Snapshot, namespace: string): readonly DestinationRule[] {
  let index = drIndexes.get(snap);
  if (!index) {
    index = new Map();
    for (const dr of snap.destinationRules) {
      const list = index.get(ns(dr)) ?? [];
      list.push(dr);
      index.set(ns(dr), list);
    }
    drIndexes.set(snap, index);
  }
  return index.get(namespace) ?? [];
}

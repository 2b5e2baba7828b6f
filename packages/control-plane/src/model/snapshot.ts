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
import { rejoinServices } from './workload-rejoin.js';

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
function sortByAge(list: ConfigObject[]): ConfigObject[] {
  const keyed = list.map((o) => ({
    o,
    at: o.metadata.creationTimestamp ?? '',
    name: `${ns(o)}/${o.metadata.name}`,
  }));
  keyed.sort((a, b) =>
    a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  return keyed.map((k) => k.o);
}

/** The members of a previous snapshot's per-kind list, to tell whether a kind is unchanged. */
const members = new WeakMap<readonly ConfigObject[], Set<ConfigObject>>();
function membersOf<T extends ConfigObject>(list: readonly T[]): ReadonlySet<T> {
  let set = members.get(list);
  if (!set) members.set(list, (set = new Set(list)));
  return set as ReadonlySet<ConfigObject> as ReadonlySet<T>;
}
function sameObjects(before: readonly ConfigObject[] | undefined, now: readonly ConfigObject[]): boolean {
  if (!before || before.length !== now.length) return false;
  const set = membersOf(before);
  for (const o of now) if (!set.has(o)) return false;
  return true;
}

/**
 * Builds the snapshot. With `previous` (the snapshot this one replaces), a kind whose objects are
 * all the same objects as before keeps the previous sorted list, and the services are kept when
 * their inputs (ServiceEntries, WorkloadEntries, registry services) are the same: a change to one
 * object re-sorts and re-joins only what its kind feeds. The result is the same as without it.
 */
export function buildSnapshot(input: SnapshotInput, previous?: Snapshot): Snapshot {
  const byKind = new Map<string, ConfigObject[]>();
  const registry = input.registryServices ?? NO_SERVICES;
  const namespaces = input.namespaces ?? NO_NAMESPACES;
  const reuse =
    previous !== undefined &&
    previous.mesh === input.mesh &&
    previous.namespaces === namespaces &&
    registryOf.get(previous) === registry;
  // MeshConfig discoverySelectors: objects and services of other namespaces are left out.
  const admitted = discoveredNamespaces(input.mesh.discoverySelectors, namespaces);
  const objects = admitted ? input.objects.filter((o) => admitted.has(ns(o))) : input.objects;
  for (const o of objects) {
    const list = byKind.get(o.kind) ?? [];
    list.push(o);
    byKind.set(o.kind, list);
  }
  for (const [k, list] of byKind) {
    const before = reuse ? (previous.byKind.get(k) as ConfigObject[] | undefined) : undefined;
    byKind.set(k, before && sameObjects(before, list) ? before : sortByAge(list));
  }
  const kind = <T extends ConfigObject>(k: string): T[] => (byKind.get(k) ?? []) as T[];
  const workloadEntries = kind<WorkloadEntry>('WorkloadEntry');
  const serviceEntries = kind<ServiceEntry>('ServiceEntry');
  const sameEntries = reuse && (previous.byKind.get('ServiceEntry') ?? []) === serviceEntries;
  const kept = sameEntries && previous.workloadEntries === workloadEntries;
  // Only WorkloadEntries changed: the ServiceEntries selecting a changed one are joined again.
  const rejoined =
    sameEntries && !kept
      ? rejoinServices(previous, membersOf(previous.workloadEntries), serviceEntries, workloadEntries)
      : undefined;
  const services = kept
    ? previous.services
    : (rejoined?.services ??
      [
        ...registry.filter((s) => !admitted || admitted.has(s.namespace)),
        ...servicesFromServiceEntries(serviceEntries, workloadEntries),
      ].sort((a, b) =>
        a.hostname !== b.hostname ? (a.hostname < b.hostname ? -1 : 1) : conflictOrder(a, b),
      ));
  const servicesByHost = kept
    ? previous.servicesByHost
    : (rejoined?.servicesByHost ?? new Map<string, Service[]>());
  if (!kept && !rejoined)
    for (const s of services) {
      const list = (servicesByHost as Map<string, Service[]>).get(s.hostname) ?? [];
      list.push(s);
      (servicesByHost as Map<string, Service[]>).set(s.hostname, list);
    }
  const snapshot: Snapshot = {
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
    namespaces,
  };
  registryOf.set(snapshot, registry);
  return snapshot;
}

const NO_SERVICES: readonly Service[] = [];
/** The registry services a snapshot was built from (reuse needs the same list). */
const registryOf = new WeakMap<Snapshot, readonly Service[]>();

/** The definition of a hostname a proxy in `namespace` uses (its own namespace's first). */
export function serviceFor(snap: Snapshot, host: string, namespace: string): Service | undefined {
  const defs = snap.servicesByHost.get(host);
  if (!defs) return undefined;
  // No array built: this runs per host and namespace when Sidecar scopes are computed.
  let first: Service | undefined;
  for (const s of defs) {
    if (!visibleTo(s.exportTo, s.namespace, namespace)) continue;
    if (s.namespace === namespace) return s;
    first ??= s;
  }
  return first;
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

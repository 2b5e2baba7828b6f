// The Sidecar scope of a proxy: which Sidecar resource applies (workload selector in its own
// namespace, else its namespace's default, else the root namespace's), which services each
// egress listener may reach, and the outbound traffic policy.
import { fqdn, hostMatches, labelsMatch, visibleTo } from './hosts.js';
import type { IstioEgressListener, IstioIngressListener, Sidecar } from './istio-types.js';
import type { Proxy } from './proxy.js';
import { serviceFor, type Snapshot } from './snapshot.js';
import type { Service } from './services.js';

export interface EgressScope {
  /** The Sidecar egress listener, or undefined for the implicit catch-all. */
  readonly listener: IstioEgressListener | undefined;
  readonly services: readonly Service[];
}

export interface SidecarScope {
  readonly sidecar: Sidecar | undefined;
  readonly egress: readonly EgressScope[];
  readonly ingress: readonly IstioIngressListener[];
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Every service any egress listener reaches, by hostname. */
  readonly hosts: ReadonlySet<string>;
}

/** The Sidecar resource that applies to a proxy. */
export function sidecarFor(snap: Snapshot, proxy: Proxy): Sidecar | undefined {
  if (snap.sidecars.length === 0) return undefined; // the common case, once per proxy and snapshot
  const own = snap.sidecars.filter((s) => (s.metadata.namespace ?? 'default') === proxy.namespace);
  const selected = own.find(
    (s) => s.spec.workloadSelector?.labels && labelsMatch(s.spec.workloadSelector.labels, proxy.labels),
  );
  if (selected) return selected;
  const nsDefault = own.find((s) => !s.spec.workloadSelector);
  if (nsDefault) return nsDefault;
  return snap.sidecars.find(
    (s) => (s.metadata.namespace ?? 'default') === snap.mesh.rootNamespace && !s.spec.workloadSelector,
  );
}

/** Does the egress host pattern `ns/host` admit service `s` for a proxy in `proxyNs`? */
function egressAdmits(pattern: string, s: Service, sidecarNs: string): boolean {
  const slash = pattern.indexOf('/');
  const nsPart = slash < 0 ? '*' : pattern.slice(0, slash);
  const hostPart = slash < 0 ? pattern : pattern.slice(slash + 1);
  if (nsPart === '~') return false;
  const wantNs = nsPart === '.' ? sidecarNs : nsPart;
  if (wantNs !== '*' && s.namespace !== wantNs) return false;
  return (
    hostMatches(hostPart === '*' ? '*' : fqdn(hostPart, s.namespace), s.hostname) || hostPart === s.hostname
  );
}

/** Services visible to a proxy's namespace, one definition per hostname. */
export function visibleServices(snap: Snapshot, namespace: string): Service[] {
  const out: Service[] = [];
  for (const host of snap.servicesByHost.keys()) {
    const s = serviceFor(snap, host, namespace);
    if (s && visibleTo(s.exportTo, s.namespace, namespace)) out.push(s);
  }
  return out;
}

const scopeCache = new WeakMap<Snapshot, Map<string, SidecarScope>>();

/** The scope depends only on the namespace and the Sidecar that applies: memoized per snapshot. */
export function sidecarScope(snap: Snapshot, proxy: Proxy): SidecarScope {
  const sidecar = sidecarFor(snap, proxy);
  const key = `${proxy.namespace}|${sidecar ? `${sidecar.metadata.namespace ?? 'default'}/${sidecar.metadata.name}` : '-'}`;
  let perSnap = scopeCache.get(snap);
  if (!perSnap) {
    perSnap = new Map();
    scopeCache.set(snap, perSnap);
  }
  const hit = perSnap.get(key);
  if (hit) return hit;
  // A scope reads the mesh config, the Sidecars and the services: when a newer snapshot holds the
  // same ones (e.g. only a VirtualService changed), the scope computed from the older one is kept.
  const last = lastScopes.get(key);
  const scope = last && sameScopeInputs(last.snap, snap) ? last.scope : computeScope(snap, proxy, sidecar);
  perSnap.set(key, scope);
  lastScopes.set(key, { snap, scope });
  return scope;
}

/** The last scope computed per namespace and Sidecar, with its snapshot. */
const lastScopes = new Map<string, { snap: Snapshot; scope: SidecarScope }>();

const sameItems = <T>(a: readonly T[], b: readonly T[]): boolean =>
  a === b || (a.length === b.length && a.every((x, i) => x === b[i]));

function sameScopeInputs(a: Snapshot, b: Snapshot): boolean {
  return (
    a.mesh === b.mesh &&
    a.namespaces === b.namespaces &&
    sameItems(a.sidecars, b.sidecars) &&
    sameItems(a.services, b.services)
  );
}

function computeScope(snap: Snapshot, proxy: Proxy, sidecar: Sidecar | undefined): SidecarScope {
  const all = visibleServices(snap, proxy.namespace);
  const sidecarNs = sidecar?.metadata.namespace ?? proxy.namespace;
  const listeners =
    sidecar?.spec.egress && sidecar.spec.egress.length > 0 ? sidecar.spec.egress : [undefined];
  const egress: EgressScope[] = listeners.map((listener) => ({
    listener,
    services: listener
      ? all.filter((s) => (listener.hosts ?? []).some((h) => egressAdmits(h, s, sidecarNs)))
      : all,
  }));
  const hosts = new Set<string>();
  for (const e of egress) for (const s of e.services) hosts.add(s.hostname);
  const mode = sidecar?.spec.outboundTrafficPolicy?.mode ?? snap.mesh.outboundTrafficPolicy.mode;
  return {
    sidecar,
    egress,
    ingress: sidecar?.spec.ingress ?? [],
    outboundTrafficPolicy: mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY',
    hosts,
  };
}

/** The services whose workloads include this proxy (by instance IP), for inbound config. */
export function servicesOfProxy(snap: Snapshot, proxy: Proxy): Service[] {
  const index = workloadIndex(snap);
  const out = new Set<Service>();
  for (const ip of proxy.ips) for (const s of index.get(`${proxy.namespace}/${ip}`) ?? []) out.add(s);
  for (const s of snap.services)
    if (s.podSelector && s.namespace === proxy.namespace && selects(s.podSelector, proxy.labels)) out.add(s);
  return snap.services.filter((s) => out.has(s));
}

/** A Kubernetes selector: non-empty, and every label equal. */
function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

const workloadIndexes = new WeakMap<Snapshot, Map<string, Service[]>>();

/** `namespace/ip` → the services that workload backs (built once per snapshot). */
function workloadIndex(snap: Snapshot): Map<string, Service[]> {
  let index = workloadIndexes.get(snap);
  if (index) return index;
  index = new Map();
  for (const s of snap.services)
    for (const w of s.workloads) {
      const key = `${w.namespace}/${w.address}`;
      const list = index.get(key) ?? [];
      if (!list.includes(s)) list.push(s);
      index.set(key, list);
    }
  workloadIndexes.set(snap, index);
  return index;
}

// Incremental translation of sidecar virtual hosts: a virtual host is memoized under a key made of
// everything that determines it — the proxy's namespace and which route sourceLabels its labels
// match, the service's hostname / namespace / ports, the domains, the VirtualService (with its
// delegates expanded) as content, and for every destination host the service ports and the
// DestinationRule the proxy sees. Equal keys give the same virtual host object, so a change to one
// VirtualService regenerates only the virtual hosts of its hosts (once per key), and later stages
// (VHDS resources, encoding, hashing) can reuse their work by object identity. A pure cache: the
// value for a key never differs from recomputing it.
import type { routeComponentsV3, routeV3 } from '@skein/api-types';
import { fqdn, labelsMatch } from '../model/hosts.js';
import type { Destination, VirtualService } from '../model/istio-types.js';
import { destinationRuleFor, serviceFor, type Snapshot } from '../model/snapshot.js';
import type { Service, ServicePort } from '../model/services.js';
import { withDelegates } from './delegate.js';

type VirtualHostJson = routeComponentsV3.VirtualHostJson;

/**
 * Translated values by key for two generations: entries used since the last rotation and the
 * ones before, so an entry no generation asked for is dropped after two rotations. A rotation
 * takes effect at the first lookup after it, so a snapshot nobody translated with this memo (e.g.
 * a push of routes only, for the endpoints memo) does not age its entries.
 */
export class GenerationMemo<T> {
  private current = new Map<string, { v: T }>();
  private previous = new Map<string, { v: T }>();
  private rotated = false;
  /** Lookups answered from the memo, and computed (for tests and logs). */
  hits = 0;
  misses = 0;

  rotate(): void {
    this.rotated = true;
  }

  private settle(): void {
    if (!this.rotated) return;
    this.rotated = false;
    this.previous = this.current;
    this.current = new Map();
  }

  /** The value kept for `key`, if any (without computing one). */
  peek(key: string): T | undefined {
    this.settle();
    return (this.current.get(key) ?? this.previous.get(key))?.v;
  }

  set(key: string, v: T): void {
    this.settle();
    this.current.set(key, { v });
  }

  get(key: string, compute: () => T): T {
    this.settle();
    let e = this.current.get(key);
    if (e) {
      this.hits++;
      return e.v;
    }
    e = this.previous.get(key);
    if (e) this.hits++;
    else {
      this.misses++;
      e = { v: compute() };
    }
    this.current.set(key, e);
    return e.v;
  }
}

/** What a proxy class's route configurations were last computed from. */
export interface ClassRoutes {
  readonly snapshot: Snapshot;
  readonly configs: readonly routeV3.RouteConfigurationJson[];
}

/**
 * Sidecar virtual hosts by `virtualHostKey`, and each proxy class's last route configurations
 * (so a later snapshot patches only the hosts `routeDelta` names).
 */
export class VirtualHostMemo extends GenerationMemo<VirtualHostJson> {
  readonly classes = new GenerationMemo<ClassRoutes>();

  override rotate(): void {
    super.rotate();
    this.classes.rotate();
  }
}

/**
 * Content ids: equal ids mean equal content (JSON), so keys stay short. An object's id is computed
 * once (snapshot objects are immutable); ids are never reused, and the table from content to id
 * starts afresh past a bound (content seen again then gets a new id: a memo miss, never a wrong hit).
 */
const objectIds = new WeakMap<object, number>();
let contentIds = new Map<string, number>();
let nextId = 0;
const MAX_CONTENT_IDS = 200_000;

function idOf(text: string): number {
  let id = contentIds.get(text);
  if (id === undefined) {
    if (contentIds.size >= MAX_CONTENT_IDS) contentIds = new Map();
    contentIds.set(text, (id = ++nextId));
  }
  return id;
}

/** An object's content as a short key (`-` for none). */
export function contentKey(o: object | undefined): string {
  if (!o) return '-';
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = idOf(JSON.stringify(o))));
  return String(id);
}

const serviceIds = new WeakMap<Service, number>();
/** What route generation reads of a service: its name, namespace and ports (not its workloads). */
function serviceKey(s: Service | undefined): string {
  if (!s) return '-';
  let id = serviceIds.get(s);
  if (id === undefined)
    serviceIds.set(s, (id = idOf(`${s.hostname}|${s.namespace}|${JSON.stringify(s.ports)}`)));
  return String(id);
}

function destinationsOf(vs: VirtualService): Destination[] {
  const out: Destination[] = [];
  for (const r of vs.spec.http ?? []) {
    for (const d of r.route ?? []) out.push(d.destination);
    if (r.mirror) out.push(r.mirror);
    for (const m of r.mirrors ?? []) out.push(m.destination);
  }
  return out;
}

type ProxyView = { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };

/** Which DestinationRule workload selectors of its namespace a proxy's labels match (per snapshot). */
const drViews = new WeakMap<Snapshot, WeakMap<ProxyView, string>>();
function drView(snap: Snapshot, proxy: ProxyView): string {
  let perSnap = drViews.get(snap);
  if (!perSnap) drViews.set(snap, (perSnap = new WeakMap()));
  let v = perSnap.get(proxy);
  if (v === undefined) {
    v = `${proxy.namespace}|`;
    for (const dr of snap.destinationRules)
      if (dr.spec.workloadSelector && (dr.metadata.namespace ?? 'default') === proxy.namespace)
        v += labelsMatch(dr.spec.workloadSelector.matchLabels, proxy.labels) ? '1' : '0';
    perSnap.set(proxy, v);
  }
  return v;
}

/**
 * The part of a key from a VirtualService's destinations: per destination host, the service and
 * the DestinationRule the proxy sees. Depends on the snapshot, the proxy's namespace and DR view
 * (`drView`), and the VirtualService: memoized on those.
 */
const destinationParts = new WeakMap<Snapshot, Map<string, WeakMap<VirtualService, string>>>();
function destinationPart(snap: Snapshot, proxy: ProxyView, expanded: VirtualService): string {
  let perSnap = destinationParts.get(snap);
  if (!perSnap) destinationParts.set(snap, (perSnap = new Map()));
  const view = drView(snap, proxy);
  let perView = perSnap.get(view);
  if (!perView) perSnap.set(view, (perView = new WeakMap()));
  let part = perView.get(expanded);
  if (part !== undefined) return part;
  const vsNs = expanded.metadata.namespace ?? 'default';
  const seen = new Set<string>();
  part = '';
  for (const d of destinationsOf(expanded)) {
    const host = fqdn(d.host, vsNs);
    if (seen.has(host)) continue;
    seen.add(host);
    part += `|${serviceKey(serviceFor(snap, host, proxy.namespace))}|${contentKey(destinationRuleFor(snap, host, proxy.namespace, proxy.labels))}`;
  }
  perView.set(expanded, part);
  return part;
}

/**
 * The memo key of a sidecar virtual host (see the module comment for what goes in). `domains` is
 * the virtual host's domain list; an array the caller keeps for the same content (see
 * `serviceDomainsOf`) costs one lookup.
 */
export function virtualHostKey(
  snap: Snapshot,
  proxy: ProxyView,
  service: Service,
  port: ServicePort,
  domains: readonly string[],
  vs: VirtualService | undefined,
): string {
  const head = `${proxy.namespace}|${serviceKey(service)}|${contentKey(port)}|${contentKey(domains)}`;
  if (!vs) return head;
  const expanded = withDelegates(snap, vs);
  let bits = '';
  for (const r of expanded.spec.http ?? [])
    for (const m of r.match ?? [])
      if (m.sourceLabels) bits += labelsMatch(m.sourceLabels, proxy.labels) ? '1' : '0';
  return `${head}|${contentKey(expanded)}|${bits}${destinationPart(snap, proxy, expanded)}`;
}

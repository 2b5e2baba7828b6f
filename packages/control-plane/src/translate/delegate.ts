// Delegate VirtualServices, as Istio merges them: a root route with `delegate: {name, namespace}`
// is replaced by the delegate's http routes, each keeping its own action and taking the root
// route's match merged with its own (a child match that contradicts the root's — a URI outside
// the root's prefix, a different method — is dropped). Destinations of a delegate in another
// namespace are resolved in the delegate's namespace. Delegates do not nest further.
import { fqdn } from '../model/hosts.js';
import type {
  Destination,
  HTTPMatchRequest,
  HTTPRoute,
  StringMatch,
  VirtualService,
} from '../model/istio-types.js';
import type { Snapshot } from '../model/snapshot.js';

const cache = new WeakMap<Snapshot, WeakMap<VirtualService, VirtualService>>();

/** The VirtualService with its delegate routes expanded (itself when it delegates nothing). */
export function withDelegates(snap: Snapshot, vs: VirtualService): VirtualService {
  if (!(vs.spec.http ?? []).some((r) => r.delegate)) return vs;
  let perSnap = cache.get(snap);
  if (!perSnap) {
    perSnap = new WeakMap();
    cache.set(snap, perSnap);
  }
  const hit = perSnap.get(vs);
  if (hit) return hit;
  const rootNs = vs.metadata.namespace ?? 'default';
  const http: HTTPRoute[] = [];
  for (const route of vs.spec.http ?? []) {
    if (!route.delegate) {
      http.push(route);
      continue;
    }
    const ns = route.delegate.namespace ?? rootNs;
    const child = snap.virtualServices.find(
      (c) => c.metadata.name === route.delegate?.name && (c.metadata.namespace ?? 'default') === ns,
    );
    // A delegate must not have hosts of its own (Istio ignores it then); a missing one routes nothing.
    if (!child || (child.spec.hosts ?? []).length > 0) continue;
    for (const c of child.spec.http ?? []) {
      if (c.delegate) continue;
      const merged = mergeMatches(route.match ?? [], c.match ?? []);
      if (merged === undefined) continue;
      http.push(inNamespace({ ...c, ...(merged.length > 0 ? { match: merged } : {}) }, ns));
    }
  }
  const out: VirtualService = { ...vs, spec: { ...vs.spec, http } };
  perSnap.set(vs, out);
  return out;
}

/** Root × child matches; undefined when none survives (the child route is dropped). */
function mergeMatches(
  root: readonly HTTPMatchRequest[],
  child: readonly HTTPMatchRequest[],
): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return [...child];
  if (child.length === 0) return [...root];
  const out: HTTPMatchRequest[] = [];
  for (const r of root)
    for (const c of child) {
      const m = mergeMatch(r, c);
      if (m) out.push(m);
    }
  return out.length > 0 ? out : undefined;
}

/** A child URI must lie within the root's (a prefix of it, or equal). */
function uriWithin(root: StringMatch | undefined, child: StringMatch | undefined): boolean {
  if (!root || !child) return true;
  if (root.exact !== undefined) return child.exact === root.exact;
  if (root.prefix !== undefined) {
    const c = child.exact ?? child.prefix;
    return c !== undefined && c.startsWith(root.prefix);
  }
  return JSON.stringify(root) === JSON.stringify(child);
}

const same = (a: unknown, b: unknown): boolean =>
  a === undefined || b === undefined || JSON.stringify(a) === JSON.stringify(b);

function mergeMatch(r: HTTPMatchRequest, c: HTTPMatchRequest): HTTPMatchRequest | undefined {
  if (!uriWithin(r.uri, c.uri)) return undefined;
  if (!same(r.method, c.method) || !same(r.scheme, c.scheme) || !same(r.authority, c.authority))
    return undefined;
  if (!same(r.port, c.port)) return undefined;
  const union = <T>(
    a: Readonly<Record<string, T>> | undefined,
    b: Readonly<Record<string, T>> | undefined,
  ) => (a || b ? { ...a, ...b } : undefined);
  const m: Record<string, unknown> = { ...r, ...c };
  m['uri'] = c.uri ?? r.uri;
  m['headers'] = union(r.headers, c.headers);
  m['withoutHeaders'] = union(r.withoutHeaders, c.withoutHeaders);
  m['queryParams'] = union(r.queryParams, c.queryParams);
  m['sourceLabels'] = union(r.sourceLabels, c.sourceLabels);
  m['gateways'] = r.gateways ?? c.gateways;
  m['name'] = r.name && c.name ? `${r.name}-${c.name}` : (c.name ?? r.name);
  for (const k of Object.keys(m)) if (m[k] === undefined) delete m[k];
  return m as HTTPMatchRequest;
}

/** Destinations resolved in the delegate's namespace (the merged route lives in the root's). */
function inNamespace(route: HTTPRoute, ns: string): HTTPRoute {
  const d = (x: Destination): Destination => ({ ...x, host: fqdn(x.host, ns) });
  return {
    ...route,
    ...(route.route ? { route: route.route.map((r) => ({ ...r, destination: d(r.destination) })) } : {}),
    ...(route.mirror ? { mirror: d(route.mirror) } : {}),
    ...(route.mirrors
      ? { mirrors: route.mirrors.map((m) => ({ ...m, destination: d(m.destination) })) }
      : {}),
  };
}

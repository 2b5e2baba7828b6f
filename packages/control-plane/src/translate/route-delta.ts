// What changed between two snapshots for sidecar route generation: everything (mesh config,
// Sidecars, namespaces, any service's routing fields, the label selectors proxy classes are cut
// by, a wildcard VirtualService host) or the hostnames whose virtual hosts may differ — the hosts
// of changed VirtualServices (a changed delegate: its roots' hosts) and of VirtualServices routing
// to a host a changed DestinationRule covers. Pure; memoized per snapshot pair.
import { fqdn, hostMatches } from '../model/hosts.js';
import type { VirtualService } from '../model/istio-types.js';
import type { Service } from '../model/services.js';
import type { Snapshot } from '../model/snapshot.js';
import { withDelegates } from './delegate.js';
import { labelSelectors } from './proxy-class.js';

export type RouteDelta =
  { readonly all: true } | { readonly all: false; readonly hosts: ReadonlySet<string> };

const ALL: RouteDelta = { all: true };
const nsOf = (o: { metadata: { namespace?: string | undefined } }): string =>
  o.metadata.namespace ?? 'default';

const signatures = new WeakMap<Service, string>();
/** A service's fields other than its workloads (route generation does not read workloads). */
function routingSignature(s: Service): string {
  let sig = signatures.get(s);
  if (sig === undefined) signatures.set(s, (sig = JSON.stringify({ ...s, workloads: undefined })));
  return sig;
}

const sameItems = <T>(a: readonly T[], b: readonly T[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Objects in one list and not the other (by identity: unchanged objects keep theirs). */
function changed<T>(a: readonly T[], b: readonly T[]): T[] {
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((x) => !inB.has(x)), ...b.filter((x) => !inA.has(x))];
}

/** A VirtualService's hosts as FQDNs, or undefined when one is a wildcard. */
function exactHosts(vs: VirtualService): string[] | undefined {
  const out = (vs.spec.hosts ?? []).map((h) => fqdn(h, nsOf(vs)));
  return out.some((h) => h.startsWith('*')) ? undefined : out;
}

const memo = new WeakMap<Snapshot, WeakMap<Snapshot, RouteDelta>>();

export function routeDelta(prev: Snapshot, next: Snapshot): RouteDelta {
  let byPrev = memo.get(prev);
  const hit = byPrev?.get(next);
  if (hit) return hit;
  const out = compute(prev, next);
  if (!byPrev) memo.set(prev, (byPrev = new WeakMap()));
  byPrev.set(next, out);
  return out;
}

function compute(prev: Snapshot, next: Snapshot): RouteDelta {
  if (prev.mesh !== next.mesh || prev.namespaces !== next.namespaces) return ALL;
  if (!sameItems(prev.sidecars, next.sidecars)) return ALL;
  if (prev.services.length !== next.services.length) return ALL;
  for (let i = 0; i < prev.services.length; i++) {
    const a = prev.services[i];
    const b = next.services[i];
    if (!a || !b || (a !== b && routingSignature(a) !== routingSignature(b))) return ALL;
  }
  const selectors = (s: Snapshot): string => JSON.stringify(labelSelectors(s));
  if (labelSelectors(prev) !== labelSelectors(next) && selectors(prev) !== selectors(next)) return ALL;
  const hosts = new Set<string>();
  const snaps = [prev, next];
  const addHostsOf = (vs: VirtualService): boolean => {
    const hs = exactHosts(vs);
    if (!hs) return false;
    for (const h of hs) hosts.add(h);
    return true;
  };
  for (const vs of changed(prev.virtualServices, next.virtualServices)) {
    if ((vs.spec.hosts ?? []).length > 0) {
      if (!addHostsOf(vs)) return ALL;
      continue;
    }
    // A delegate: the hosts of every root delegating to it, in either snapshot.
    for (const snap of snaps)
      for (const root of snap.virtualServices)
        if (
          (root.spec.http ?? []).some(
            (r) => r.delegate?.name === vs.metadata.name && (r.delegate.namespace ?? nsOf(root)) === nsOf(vs),
          ) &&
          !addHostsOf(root)
        )
          return ALL;
  }
  const drs = changed(prev.destinationRules, next.destinationRules);
  if (drs.length > 0) {
    const patterns = drs.map((dr) => fqdn(dr.spec.host, nsOf(dr)));
    for (const snap of snaps)
      for (const vs of snap.virtualServices) {
        if ((vs.spec.hosts ?? []).length === 0) continue; // delegates count through their roots
        const expanded = withDelegates(snap, vs);
        const routesTo = (expanded.spec.http ?? []).some((r) =>
          [
            ...(r.route ?? []).map((d) => d.destination),
            ...(r.mirror ? [r.mirror] : []),
            ...(r.mirrors ?? []).map((m) => m.destination),
          ].some((d) => patterns.some((p) => hostMatches(p, fqdn(d.host, nsOf(expanded))))),
        );
        if (routesTo && !addHostsOf(vs)) return ALL;
      }
  }
  return { all: false, hosts };
}

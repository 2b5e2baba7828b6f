// Incremental translation of sidecar virtual hosts: a virtual host is memoized under a key made of
// everything that determines it — the proxy's namespace and which route sourceLabels its labels
// match, the service's hostname / namespace / ports, the domains, the VirtualService (with its
// delegates expanded) as content, and for every destination host the service ports and the
// DestinationRule the proxy sees. Equal keys give the same virtual host object, so a change to one
// VirtualService regenerates only the virtual hosts of its hosts (once per key), and later stages
// (VHDS resources, encoding, hashing) can reuse their work by object identity. A pure cache: the
// value for a key never differs from recomputing it.
import type { routeComponentsV3 } from '@skein/api-types';
import { fqdn, labelsMatch } from '../model/hosts.js';
import type { Destination, VirtualService } from '../model/istio-types.js';
import { destinationRuleFor, serviceFor, type Snapshot } from '../model/snapshot.js';
import type { Service, ServicePort } from '../model/services.js';
import { withDelegates } from './delegate.js';

type VirtualHostJson = routeComponentsV3.VirtualHostJson;

/**
 * Translated values by key for two generations: entries used since the last `rotate` and the
 * ones before, so an entry no generation asked for is dropped after two rotations.
 */
export class GenerationMemo<T> {
  private current = new Map<string, T>();
  private previous = new Map<string, T>();
  /** Lookups answered from the memo, and computed (for tests and logs). */
  hits = 0;
  misses = 0;

  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  get(key: string, compute: () => T): T {
    if (this.current.has(key)) {
      this.hits++;
      return this.current.get(key) as T;
    }
    let v: T;
    if (this.previous.has(key)) {
      this.hits++;
      v = this.previous.get(key) as T;
    } else {
      this.misses++;
      v = compute();
    }
    this.current.set(key, v);
    return v;
  }
}

/** Sidecar virtual hosts by `virtualHostKey`. */
export class VirtualHostMemo extends GenerationMemo<VirtualHostJson> {}

const contentKeys = new WeakMap<object, string>();
/** An object's content as a key, computed once per object (snapshot objects are immutable). */
export function contentKey(o: object | undefined): string {
  if (!o) return '-';
  let k = contentKeys.get(o);
  if (k === undefined) contentKeys.set(o, (k = JSON.stringify(o)));
  return k;
}

const serviceKeys = new WeakMap<Service, string>();
/** What route generation reads of a service: its name, namespace and ports (not its workloads). */
function serviceKey(s: Service | undefined): string {
  if (!s) return '-';
  let k = serviceKeys.get(s);
  if (k === undefined) serviceKeys.set(s, (k = `${s.hostname}|${s.namespace}|${JSON.stringify(s.ports)}`));
  return k;
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

/** The memo key of a sidecar virtual host (see the module comment for what goes in). */
export function virtualHostKey(
  snap: Snapshot,
  proxy: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> },
  service: Service,
  port: ServicePort,
  domains: readonly string[],
  vs: VirtualService | undefined,
): string {
  const parts = [proxy.namespace, serviceKey(service), JSON.stringify(port), domains.join(',')];
  if (!vs) return parts.join('\n');
  const expanded = withDelegates(snap, vs);
  parts.push(contentKey(expanded));
  let bits = '';
  for (const r of expanded.spec.http ?? [])
    for (const m of r.match ?? [])
      if (m.sourceLabels) bits += labelsMatch(m.sourceLabels, proxy.labels) ? '1' : '0';
  parts.push(bits);
  const vsNs = expanded.metadata.namespace ?? 'default';
  const seen = new Set<string>();
  for (const d of destinationsOf(expanded)) {
    const host = fqdn(d.host, vsNs);
    if (seen.has(host)) continue;
    seen.add(host);
    parts.push(
      host,
      serviceKey(serviceFor(snap, host, proxy.namespace)),
      contentKey(destinationRuleFor(snap, host, proxy.namespace, proxy.labels)),
    );
  }
  return parts.join('\n');
}

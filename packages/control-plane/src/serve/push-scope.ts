// Which proxies a change concerns. A push request names the hostnames it touched (or is full);
// a proxy is pushed only when one of them is in its Sidecar scope or is one of its own services.
import { TypeUrl } from '@skein/api-types';
import type { Snapshot } from '../model/snapshot.js';
import type { TranslateContext } from '../translate/context.js';

const hostsByIp = new WeakMap<Snapshot, Map<string, string[]>>();

/** Workload IP → hostnames of the services it backs (memoized per snapshot). */
function servicesByIp(snap: Snapshot): Map<string, string[]> {
  let m = hostsByIp.get(snap);
  if (m) return m;
  m = new Map();
  for (const s of snap.services)
    for (const w of s.workloads) {
      const list = m.get(w.address) ?? [];
      list.push(s.hostname);
      m.set(w.address, list);
    }
  hostsByIp.set(snap, m);
  return m;
}

export interface PushRequest {
  /** Every proxy, every type (mesh config, Sidecar, unknown impact). */
  readonly full: boolean;
  /** Hostnames whose services, routes or policies changed. */
  readonly hosts: ReadonlySet<string>;
  /** Restrict to these types (e.g. EDS only for an endpoint change). */
  readonly types?: readonly string[] | undefined;
  /** When the triggering change was observed (epoch ms: the file or informer event): convergence
   * time counts from it, and the debounce's quiet window runs from the latest one. */
  readonly changeAt: number;
  readonly reason: string;
}

export function affects(ctx: TranslateContext, req: PushRequest): boolean {
  if (req.full) return true;
  // A credential change: any proxy may name the Secret (its generator serves only its namespace's).
  if (req.types?.length === 1 && req.types[0] === TypeUrl.Secret) return true;
  // Gateways serve hosts outside any Sidecar scope (their VirtualServices' hosts): always push.
  if (ctx.proxy.type === 'router') return true;
  for (const h of req.hosts) {
    if (ctx.scope.hosts.has(h)) return true;
    if (h.startsWith('*') && [...ctx.scope.hosts].some((x) => x.endsWith(h.slice(1)))) return true;
  }
  // The proxy's own services (inbound) change with their workloads.
  const own = servicesByIp(ctx.snapshot);
  return ctx.proxy.ips.some((ip) => (own.get(ip) ?? []).some((h) => req.hosts.has(h)));
}

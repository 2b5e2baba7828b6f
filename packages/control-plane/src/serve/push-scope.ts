// Which proxies a change concerns. A push request names the hostnames it touched (or is full);
// a proxy is pushed only when one of them is in its Sidecar scope or is one of its own services.
import type { TranslateContext } from '../translate/context.js';

export interface PushRequest {
  /** Every proxy, every type (mesh config, Sidecar, unknown impact). */
  readonly full: boolean;
  /** Hostnames whose services, routes or policies changed. */
  readonly hosts: ReadonlySet<string>;
  /** Restrict to these types (e.g. EDS only for an endpoint change). */
  readonly types?: readonly string[] | undefined;
  /** When the triggering change happened (ms), for convergence time. */
  readonly changeAt: number;
  readonly reason: string;
}

export function affects(ctx: TranslateContext, req: PushRequest): boolean {
  if (req.full) return true;
  for (const h of req.hosts) {
    if (ctx.scope.hosts.has(h)) return true;
    if (h.startsWith('*') && [...ctx.scope.hosts].some((x) => x.endsWith(h.slice(1)))) return true;
  }
  // The proxy's own services (inbound) change with their workloads.
  for (const s of ctx.snapshot.services)
    if (req.hosts.has(s.hostname) && s.workloads.some((w) => ctx.proxy.ips.includes(w.address))) return true;
  return false;
}

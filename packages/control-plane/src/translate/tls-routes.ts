// VirtualService `tls` routes on sidecars: on an outbound TLS/HTTPS port, a filter chain per
// route match keyed by its `sniHosts` (the TLS inspector reads the SNI), forwarding to the
// route's weighted destinations — as Istio does for TLS without terminating it.
import { labelsMatch } from '../model/hosts.js';
import type { Service, ServicePort } from '../model/services.js';
import { virtualServiceFor } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';
import { tcpProxyFilter } from './hcm.js';
import { destinationCluster } from './http-routes.js';
import type { FilterChainJson } from './security.js';

/** The SNI chains of the service's VirtualService `tls` routes; undefined when it has none. */
export function sidecarTlsChains(
  ctx: TranslateContext,
  service: Service,
  port: ServicePort,
): FilterChainJson[] | undefined {
  const vs = virtualServiceFor(ctx.snapshot, service.hostname, ctx.proxy.namespace);
  if (!vs?.spec.tls?.length) return undefined;
  const vsNs = vs.metadata.namespace ?? 'default';
  const seen = new Set<string>();
  const chains: FilterChainJson[] = [];
  for (const route of vs.spec.tls) {
    const dests = route.route ?? [];
    if (dests.length === 0) continue;
    for (const m of route.match ?? []) {
      if (m.port !== undefined && m.port !== port.number) continue;
      if (m.sourceLabels && !labelsMatch(m.sourceLabels, ctx.proxy.labels)) continue;
      if (m.gateways?.length && !m.gateways.includes('mesh')) continue;
      const snis = (m.sniHosts ?? []).filter((s) => !seen.has(s));
      if (snis.length === 0) continue;
      for (const s of snis) seen.add(s);
      const weighted = dests
        .map((d) => ({
          name: destinationCluster(ctx, d.destination, vsNs, port.number),
          weight: d.weight ?? (dests.length === 1 ? 100 : 0),
        }))
        .filter((w) => w.weight > 0);
      const first = weighted[0]?.name;
      if (!first) continue;
      chains.push({
        name: `${service.hostname}:${port.number}:${snis.join(',')}`,
        filterChainMatch: { serverNames: snis },
        filters: [tcpProxyFilter(first, first, weighted)],
      });
    }
  }
  return chains.length > 0 ? chains : undefined;
}

// NDS: Istio's NameTable for the agent's DNS proxy — every hostname in the proxy's scope with
// the addresses it resolves to (the service's VIPs, or its workload addresses when it has none),
// its registry, and for Kubernetes services the short name and namespace. Auto-allocated
// addresses (address-allocation.ts) count as VIPs.
import type { istioNdsV1 } from '@skein/api-types';
import { serviceFor } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';
import { withAutoAddress } from './address-allocation.js';

export const NAME_TABLE_RESOURCE = 'name-table';

export function nameTable(ctx: TranslateContext): istioNdsV1.NameTableJson {
  const table: Record<string, istioNdsV1.NameTable_NameInfoJson> = {};
  for (const host of [...ctx.scope.hosts].sort()) {
    if (host.includes('*')) continue;
    const found = serviceFor(ctx.snapshot, host, ctx.proxy.namespace);
    if (!found) continue;
    const s = withAutoAddress(ctx, found);
    const vips = s.addresses.filter((a) => !a.includes('/'));
    const ips = vips.length > 0 ? vips : [...new Set(s.workloads.map((w) => w.address))].sort();
    if (ips.length === 0) continue;
    const k8s = s.registry === 'Kubernetes';
    table[host] = {
      ips,
      registry: s.registry,
      ...(k8s ? { shortname: host.split('.')[0] ?? host, namespace: s.namespace } : {}),
    };
  }
  return { table };
}

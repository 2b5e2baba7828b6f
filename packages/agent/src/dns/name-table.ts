// The DNS proxy's view of mesh names: Istio's NameTable (host → IPs, registry, shortname,
// namespace) indexed for lookups, including short names of Kubernetes services in the pod's
// namespace and `<svc>.<ns>` / `<svc>.<ns>.svc` forms.
import type { istioNdsV1 } from '@skein/api-types';

export type NameTableJson = istioNdsV1.NameTableJson;

export interface NameTableIndex {
  /** IPs for a query name (any case, with or without the trailing dot), or undefined if not a mesh name. */
  lookup(name: string): string[] | undefined;
  readonly size: number;
}

export function indexNameTable(
  table: NameTableJson,
  podNamespace: string,
  clusterDomain = 'cluster.local',
): NameTableIndex {
  const map = new Map<string, string[]>();
  const add = (k: string, ips: string[]) => {
    if (!map.has(k)) map.set(k, ips);
  };
  for (const [host, info] of Object.entries(table.table ?? {})) {
    const ips = info.ips ?? [];
    add(host.toLowerCase(), ips);
    if (info.registry === 'Kubernetes' && info.shortname && info.namespace) {
      const s = info.shortname.toLowerCase();
      const ns = info.namespace.toLowerCase();
      add(`${s}.${ns}`, ips);
      add(`${s}.${ns}.svc`, ips);
      add(`${s}.${ns}.svc.${clusterDomain}`, ips);
      if (ns === podNamespace.toLowerCase()) add(s, ips);
    }
  }
  return {
    lookup: (name) => map.get(name.toLowerCase().replace(/\.$/, '')),
    size: map.size,
  };
}

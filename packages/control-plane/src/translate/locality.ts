// Locality load balancing (DestinationRule `localityLbSetting`), active only when the cluster
// has outlier detection, as in Istio: endpoints are split into priorities by how close their
// locality is to the proxy's (same region/zone/subzone first, then zone, region, `failover`
// targets, the rest), or — with `distribute` — weighted across localities within priority 0.
import type { endpointV3 } from '@skein/api-types';
import type { LocalityLoadBalancerSetting } from '../model/istio-types.js';
import type { Locality } from '../model/proxy.js';

type ClaJson = endpointV3.ClusterLoadAssignmentJson;
type Group = NonNullable<ClaJson['endpoints']>[number];

const localityOf = (g: Group): Locality => ({
  region: g.locality?.region ?? '',
  zone: g.locality?.zone ?? '',
  subZone: g.locality?.subZone ?? '',
});

/** `region/zone/subzone` pattern with `*` wildcards (a trailing part may be omitted). */
function localityMatches(pattern: string, l: Locality): boolean {
  const parts = pattern.split('/');
  const values = [l.region, l.zone, l.subZone];
  return parts.every((p, i) => p === '*' || p === values[i]);
}

function proximity(
  proxy: Locality,
  l: Locality,
  failover: readonly { from?: string | undefined; to?: string | undefined }[],
): number {
  if (proxy.region && l.region === proxy.region) {
    if (l.zone === proxy.zone) return l.subZone === proxy.subZone ? 0 : 1;
    return 2;
  }
  if (failover.some((f) => f.from === proxy.region && f.to === l.region)) return 3;
  return 4;
}

export function applyLocalityLb(
  cla: ClaJson,
  setting: LocalityLoadBalancerSetting | undefined,
  proxy: Locality,
): ClaJson {
  if (setting?.enabled === false || !proxy.region) return cla;
  const groups = cla.endpoints ?? [];
  const distribute = setting?.distribute?.find((d) => d.from && localityMatches(d.from, proxy));
  if (distribute?.to) {
    const out = groups.map((g) => {
      let weight = 0;
      for (const [pattern, share] of Object.entries(distribute.to ?? {})) {
        const matching = groups.filter((x) => localityMatches(pattern, localityOf(x)));
        if (matching.includes(g)) weight += share / matching.length;
      }
      return { ...g, loadBalancingWeight: Math.round(weight * 10) };
    });
    return { ...cla, endpoints: out.filter((g) => (g.loadBalancingWeight ?? 0) > 0) };
  }
  const ranks = groups.map((g) => proximity(proxy, localityOf(g), setting?.failover ?? []));
  const distinct = [...new Set(ranks)].sort((a, b) => a - b);
  return { ...cla, endpoints: groups.map((g, i) => ({ ...g, priority: distinct.indexOf(ranks[i] ?? 4) })) };
}

/** Does `distribute` apply to this proxy (the cluster then needs locality-weighted LB)? */
export function usesLocalityWeights(
  setting: LocalityLoadBalancerSetting | undefined,
  proxy: Locality,
): boolean {
  return (
    setting?.enabled !== false &&
    !!proxy.region &&
    !!setting?.distribute?.some((d) => d.from && localityMatches(d.from, proxy))
  );
}

// Locality `failoverPriority` (DestinationRule localityLbSetting), as Istio applies it: an ordered
// list of labels; an endpoint matching the proxy on all of them gets priority 0, on all but the
// last priority 1, and so on (none: the lowest). The topology keys read the locality and network
// (`topology.kubernetes.io/region`, `.../zone`, `topology.istio.io/subzone`,
// `topology.istio.io/network`); any other key reads labels. `key=value` compares the endpoint
// with that value instead of the proxy's. Endpoints of one locality with different priorities
// are split into groups, one per (locality, priority).
import type { endpointV3 } from '@skein/api-types';
import type { ServicePort, Workload } from '../model/services.js';
import type { Proxy } from '../model/proxy.js';
import { loadAssignment } from './endpoints.js';

type ClaJson = endpointV3.ClusterLoadAssignmentJson;

interface Subject {
  readonly locality: string;
  readonly network: string;
  readonly labels: Readonly<Record<string, string>>;
}

function valueOf(key: string, s: Subject): string | undefined {
  const [region, zone, subZone] = s.locality.split('/');
  switch (key) {
    case 'topology.kubernetes.io/region':
      return region || undefined;
    case 'topology.kubernetes.io/zone':
      return zone || undefined;
    case 'topology.istio.io/subzone':
      return subZone || undefined;
    case 'topology.istio.io/network':
      return s.network || s.labels[key];
    default:
      return s.labels[key];
  }
}

/** The proxy as a subject: its locality, network (node metadata NETWORK) and labels. */
export function proxySubject(p: Proxy): Subject {
  const l = p.locality;
  const network = p.metadata['NETWORK'];
  return {
    locality: [l.region, l.zone, l.subZone].join('/'),
    network: typeof network === 'string' ? network : '',
    labels: p.labels,
  };
}

/** Priority of one endpoint: how many of the leading labels fail to match, counted from the end. */
export function endpointPriority(priorities: readonly string[], proxy: Subject, w: Subject): number {
  let matched = 0;
  for (const entry of priorities) {
    const eq = entry.indexOf('=');
    const key = eq >= 0 ? entry.slice(0, eq) : entry;
    const want = eq >= 0 ? entry.slice(eq + 1) : valueOf(key, proxy);
    const have = valueOf(key, w);
    if (want === undefined || have === undefined || want !== have) break;
    matched++;
  }
  return priorities.length - matched;
}

/** The load assignment with endpoints grouped by (locality, failover priority). */
export function failoverPriorityAssignment(
  clusterName: string,
  port: ServicePort,
  workloads: readonly Workload[],
  priorities: readonly string[],
  proxy: Proxy,
): ClaJson {
  const me = proxySubject(proxy);
  const byPriority = new Map<number, Workload[]>();
  for (const w of workloads) {
    const p = endpointPriority(priorities, me, w);
    byPriority.set(p, [...(byPriority.get(p) ?? []), w]);
  }
  const ranks = [...byPriority.keys()].sort((a, b) => a - b);
  const endpoints = ranks.flatMap((rank, priority) =>
    (loadAssignment(clusterName, port, byPriority.get(rank) ?? []).endpoints ?? []).map((g) => ({
      ...g,
      ...(priority > 0 ? { priority } : {}),
    })),
  );
  return { clusterName, endpoints };
}

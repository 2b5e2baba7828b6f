// ClusterLoadAssignment (EDS or a cluster's inline load_assignment) to hosts, carrying over
// the live state of hosts that stay.
import type { endpointV3 } from '@skein/api-types';
import { makeHost, type Host } from './host.js';

const UNHEALTHY = new Set(['UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED']);

/** Hosts of an assignment; `previous` hosts with the same key keep their counters and ejection. */
export function hostsFromAssignment(
  cla: endpointV3.ClusterLoadAssignmentJson | undefined,
  previous: readonly Host[] = [],
): Host[] {
  const old = new Map(previous.map((h) => [h.key, h]));
  const out: Host[] = [];
  for (const group of cla?.endpoints ?? []) {
    const loc = group.locality;
    const locality = loc ? `${loc.region ?? ''}/${loc.zone ?? ''}/${loc.subZone ?? ''}` : '';
    for (const lbe of group.lbEndpoints ?? []) {
      const sa = lbe.endpoint?.address?.socketAddress;
      if (!sa?.address) continue;
      const h = makeHost(sa.address, sa.portValue ?? 0, {
        weight: lbe.loadBalancingWeight ?? 1,
        priority: group.priority ?? 0,
        locality,
        localityWeight: group.loadBalancingWeight ?? 1,
        healthy: !UNHEALTHY.has(lbe.healthStatus ?? 'UNKNOWN'),
      });
      const prev = old.get(h.key);
      if (prev) {
        h.ejectedUntil = prev.ejectedUntil;
        h.failedActiveHc = prev.failedActiveHc;
        h.ejections = prev.ejections;
        h.activeRequests = prev.activeRequests;
        h.consecutive5xx = prev.consecutive5xx;
        h.consecutiveGatewayFailures = prev.consecutiveGatewayFailures;
      }
      out.push(h);
    }
  }
  return out;
}

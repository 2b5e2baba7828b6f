// Incremental EDS: a ClusterLoadAssignment memoized under a key of everything that determines it
// — the cluster name, the service definition the proxy sees (with its workloads), the
// DestinationRule the proxy sees, and, when there is one (subsets, locality load balancing,
// failover priority), the proxy's locality, network and labels. Equal keys give the same object,
// so an endpoint change recomputes the assignments of the changed service only, and the encoder
// reuses the others' versions and bytes by identity. A pure cache.
import type { endpointV3 } from '@skein/api-types';
import type { Proxy } from '../model/proxy.js';
import { destinationRuleFor, serviceFor, type Snapshot } from '../model/snapshot.js';
import { parseClusterName } from './names.js';
import { proxySubject } from './failover-priority.js';
import { contentKey, GenerationMemo } from './vhost-memo.js';

type ClaJson = endpointV3.ClusterLoadAssignmentJson;

/** Load assignments by `endpointsKey` (undefined: an unknown cluster). */
export class EndpointsMemo extends GenerationMemo<ClaJson | undefined> {}

const subjects = new WeakMap<Proxy, string>();

/** The memo key of a cluster's load assignment for a proxy. */
export function endpointsKey(snap: Snapshot, proxy: Proxy, clusterName: string): string {
  const parsed = parseClusterName(clusterName);
  if (!parsed || parsed.direction !== 'outbound') return clusterName;
  const service = serviceFor(snap, parsed.host, proxy.namespace);
  if (!service) return `${clusterName}\n-`;
  const dr = destinationRuleFor(snap, service.hostname, proxy.namespace, proxy.labels);
  let who = '';
  if (dr) {
    who = subjects.get(proxy) ?? '';
    if (!who) subjects.set(proxy, (who = JSON.stringify(proxySubject(proxy))));
  }
  return `${clusterName}\n${contentKey(service)}\n${contentKey(dr)}\n${who}`;
}

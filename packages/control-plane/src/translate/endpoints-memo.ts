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

/** A class's last load assignments for a list of cluster names, and the snapshot they are of. */
export interface ClassEndpoints {
  readonly snapshot: Snapshot;
  readonly names: readonly string[];
  readonly list: readonly (ClaJson | undefined)[];
}

/**
 * Load assignments by `endpointsKey` (undefined: an unknown cluster), and each proxy class's last
 * list per subscription (so a later snapshot recomputes only what `endpointDelta` names).
 */
export class EndpointsMemo extends GenerationMemo<ClaJson | undefined> {
  readonly classes = new GenerationMemo<ClassEndpoints>();

  override rotate(): void {
    super.rotate();
    this.classes.rotate();
  }
}

export type EndpointDelta =
  { readonly all: true } | { readonly all: false; readonly hosts: ReadonlySet<string> };

const ALL: EndpointDelta = { all: true };
const deltas = new WeakMap<Snapshot, WeakMap<Snapshot, EndpointDelta>>();

/**
 * What changed between two snapshots for load assignments: everything (mesh config, namespaces,
 * DestinationRules, the set of services) or the hostnames whose service objects differ (services
 * keep their identity while their ServiceEntry and workloads do). Pure; memoized per pair.
 */
export function endpointDelta(prev: Snapshot, next: Snapshot): EndpointDelta {
  let byPrev = deltas.get(prev);
  const hit = byPrev?.get(next);
  if (hit) return hit;
  let out: EndpointDelta;
  const sameDrs =
    prev.destinationRules.length === next.destinationRules.length &&
    prev.destinationRules.every((d, i) => d === next.destinationRules[i]);
  if (
    prev.mesh !== next.mesh ||
    prev.namespaces !== next.namespaces ||
    !sameDrs ||
    prev.services.length !== next.services.length
  )
    out = ALL;
  else {
    const hosts = new Set<string>();
    out = { all: false, hosts };
    for (let i = 0; i < prev.services.length; i++) {
      const a = prev.services[i];
      const b = next.services[i];
      if (a === b) continue;
      if (!a || !b || a.hostname !== b.hostname) {
        out = ALL;
        break;
      }
      hosts.add(a.hostname);
    }
  }
  if (!byPrev) deltas.set(prev, (byPrev = new WeakMap()));
  byPrev.set(next, out);
  return out;
}

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

// What a configuration change touches: the hostnames of the objects before and after, and
// whether it is an endpoint-only change (WorkloadEntries behind EDS services → EDS only).
import { TypeUrl } from '@skein/api-types';
import type { ConfigChange } from '../ingest/config-store.js';
import { fqdn, labelsMatch } from '../model/hosts.js';
import type {
  ConfigObject,
  DestinationRuleSpec,
  ServiceEntrySpec,
  VirtualServiceSpec,
  WorkloadEntrySpec,
} from '../model/istio-types.js';
import { SECRET_KIND } from '../model/credentials.js';
import { SECRET_ACCESS_KIND } from '../model/secret-access.js';
import type { Snapshot } from '../model/snapshot.js';
import { VIRTUAL_HOST_TYPE } from '../translate/vhds.js';
import type { PushRequest } from './push-scope.js';

function hostsOf(o: ConfigObject, snaps: readonly Snapshot[]): string[] | undefined {
  const ns = o.metadata.namespace ?? 'default';
  switch (o.kind) {
    case 'VirtualService': {
      const hosts = ((o.spec as VirtualServiceSpec).hosts ?? []).map((h) => fqdn(h, ns));
      if (hosts.length > 0) return hosts;
      // A delegate: the hosts of the VirtualServices delegating to it.
      const out: string[] = [];
      for (const snap of snaps)
        for (const root of snap.virtualServices)
          if (
            (root.spec.http ?? []).some(
              (r) =>
                r.delegate?.name === o.metadata.name &&
                (r.delegate.namespace ?? root.metadata.namespace ?? 'default') === ns,
            )
          )
            out.push(...(root.spec.hosts ?? []).map((h) => fqdn(h, root.metadata.namespace ?? 'default')));
      return out;
    }
    case 'DestinationRule':
      return [fqdn((o.spec as DestinationRuleSpec).host, ns)];
    case 'ServiceEntry':
      return ((o.spec as ServiceEntrySpec).hosts ?? []).map((h) => fqdn(h, ns));
    case SECRET_KIND:
    case SECRET_ACCESS_KIND:
      return [];
    case 'WorkloadEntry': {
      const spec = o.spec as WorkloadEntrySpec;
      const labels = spec.labels ?? o.metadata.labels ?? {};
      const out: string[] = [];
      for (const snap of snaps)
        for (const s of snap.services)
          if (s.namespace === ns && s.workloadSelector && labelsMatch(s.workloadSelector, labels))
            out.push(s.hostname);
      return out;
    }
    default:
      return undefined; // Sidecar, Gateway, security, telemetry: impact not scoped
  }
}

/**
 * A mesh VirtualService with HTTP routes only (no tcp / tls routes, no gateways, not a delegate):
 * it reaches route configurations and virtual hosts, never listeners.
 */
function httpRoutesOnly(spec: VirtualServiceSpec): boolean {
  return (
    (spec.hosts ?? []).length > 0 &&
    (spec.tcp ?? []).length === 0 &&
    (spec.tls ?? []).length === 0 &&
    (spec.gateways ?? []).every((g) => g === 'mesh')
  );
}

export function pushRequestFor(
  change: ConfigChange,
  current: (key: string) => ConfigObject | undefined,
  snaps: readonly Snapshot[],
  changeAt: number,
): PushRequest {
  const hosts = new Set<string>();
  let full = false;
  let endpointsOnly = true;
  let routesOnly = true;
  let httpOnly = true;
  const kinds = new Set<string>();
  for (const key of change.changed) {
    for (const o of [change.before.get(key), current(key)]) {
      if (!o) continue;
      kinds.add(o.kind);
      const h = hostsOf(o, snaps);
      if (h === undefined) full = true;
      else for (const x of h) hosts.add(x);
      if (o.kind !== 'WorkloadEntry') endpointsOnly = false;
      if (o.kind !== 'VirtualService') routesOnly = false;
      else if (!httpRoutesOnly(o.spec as VirtualServiceSpec)) httpOnly = false;
    }
  }
  // TLS credentials (credentialName Secrets) and who may have them reach only the Secret type.
  if (kinds.size > 0 && [...kinds].every((k) => k === SECRET_KIND || k === SECRET_ACCESS_KIND))
    return { full: false, hosts, types: [TypeUrl.Secret], changeAt, reason: [...kinds].join(',') };
  const edsServices = snaps.every((snap) =>
    [...hosts].every((h) =>
      (snap.servicesByHost.get(h) ?? []).every(
        (s) => s.resolution === 'STATIC' || s.registry === 'Kubernetes',
      ),
    ),
  );
  return {
    full,
    hosts,
    // Routing changes reach listeners (TCP/TLS routes) and routes only; clusters and endpoints
    // come from services and DestinationRules.
    types: full
      ? undefined
      : endpointsOnly && edsServices
        ? [TypeUrl.ClusterLoadAssignment]
        : routesOnly
          ? httpOnly
            ? [TypeUrl.RouteConfiguration, VIRTUAL_HOST_TYPE]
            : [TypeUrl.Listener, TypeUrl.RouteConfiguration, VIRTUAL_HOST_TYPE]
          : undefined,
    changeAt,
    reason: [...kinds].sort().join(','),
  };
}

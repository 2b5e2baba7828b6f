// EDS: the ClusterLoadAssignment of an outbound cluster — the service's workloads (filtered by
// the subset's labels), grouped by locality, each group carrying its locality and a
// load_balancing_weight (both required by proxyless gRPC clients).
import type { endpointV3 } from '@skein/api-types';
import { destinationRuleFor, serviceFor } from '../model/snapshot.js';
import { endpointPort, type Service, type ServicePort, type Workload } from '../model/services.js';
import { labelsMatch } from '../model/hosts.js';
import type { TranslateContext } from './context.js';
import { socketAddress } from './envoy.js';
import { endpointMetadata } from './endpoint-metadata.js';
import { parseClusterName } from './names.js';
import { effectivePolicy } from './cluster-policy.js';
import { applyLocalityLb } from './locality.js';
import { failoverPriorityAssignment } from './failover-priority.js';
import { endpointDelta, endpointsKey } from './endpoints-memo.js';
import { proxyClassKey } from './proxy-class.js';

type ClaJson = endpointV3.ClusterLoadAssignmentJson;

/** The workloads behind a cluster's service port and subset. */
export function clusterWorkloads(ctx: TranslateContext, service: Service, subset: string): Workload[] {
  if (!subset) return [...service.workloads];
  const dr = destinationRuleFor(ctx.snapshot, service.hostname, ctx.proxy.namespace, ctx.proxy.labels);
  const def = dr?.spec.subsets?.find((s) => s.name === subset);
  if (!def) return [];
  return service.workloads.filter((w) => labelsMatch(def.labels, w.labels));
}

function parseLocality(s: string): { region?: string; zone?: string; subZone?: string } {
  const [region, zone, subZone] = s.split('/');
  return {
    ...(region ? { region } : {}),
    ...(zone ? { zone } : {}),
    ...(subZone ? { subZone } : {}),
  };
}

export function loadAssignment(
  clusterName: string,
  port: ServicePort,
  workloads: readonly Workload[],
): ClaJson {
  const groups = new Map<string, Workload[]>();
  for (const w of workloads) {
    const list = groups.get(w.locality) ?? [];
    list.push(w);
    groups.set(w.locality, list);
  }
  const endpoints = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([locality, ws]) => ({
      locality: parseLocality(locality),
      lbEndpoints: ws
        .map((w) => ({ w, key: `${w.address}:${endpointPort(w, port)}` }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map(({ w }) => ({
          endpoint: { address: socketAddress(w.address, endpointPort(w, port)) },
          ...endpointMetadata(w),
          loadBalancingWeight: Math.max(1, w.weight),
        })),
      loadBalancingWeight: ws.reduce((sum, w) => sum + Math.max(1, w.weight), 0),
    }));
  return { clusterName, endpoints };
}

const uniqueNames = new WeakMap<readonly string[], { names: string[]; hosts: string[]; id: number }>();
let namesIds = 0;

/** Subscribed names sorted without repeats, their hosts and an id (per names array). */
function namesOf(names: readonly string[]): { names: string[]; hosts: string[]; id: number } {
  let u = uniqueNames.get(names);
  if (!u) {
    const list = [...new Set(names)].sort();
    u = { names: list, hosts: list.map((n) => parseClusterName(n)?.host ?? ''), id: ++namesIds };
    uniqueNames.set(names, u);
  }
  return u;
}

/**
 * The load assignments of the subscribed cluster names, sorted by name (unknown clusters left
 * out). With the context's memo, a proxy class's list of the previous snapshot is kept and only the
 * assignments of hosts `endpointDelta` names are recomputed.
 */
export function loadAssignments(ctx: TranslateContext, subscribed: readonly string[]): ClaJson[] {
  const { names, hosts, id } = namesOf(subscribed);
  const memo = ctx.endpoints;
  let list: readonly (ClaJson | undefined)[] | undefined;
  if (memo) {
    const key = `${proxyClassKey(ctx)}|${id}`;
    const prev = memo.classes.peek(key);
    if (prev?.names === names) {
      if (prev.snapshot === ctx.snapshot) list = prev.list;
      else {
        const delta = endpointDelta(prev.snapshot, ctx.snapshot);
        if (!delta.all)
          list = names.map((n, i) => (delta.hosts.has(hosts[i] ?? '') ? endpointsFor(ctx, n) : prev.list[i]));
      }
    }
    list ??= names.map((n) => endpointsFor(ctx, n));
    memo.classes.set(key, { snapshot: ctx.snapshot, names, list });
  } else list = names.map((n) => endpointsFor(ctx, n));
  return list.filter((c): c is ClaJson => c !== undefined);
}

/**
 * The ClusterLoadAssignment for an `outbound|port|subset|host` name, or undefined if unknown;
 * from the context's memo when it has one (see endpoints-memo).
 */
export function endpointsFor(ctx: TranslateContext, clusterName: string): ClaJson | undefined {
  const memo = ctx.endpoints;
  if (!memo) return computeEndpoints(ctx, clusterName);
  return memo.get(endpointsKey(ctx.snapshot, ctx.proxy, clusterName), () =>
    computeEndpoints(ctx, clusterName),
  );
}

function computeEndpoints(ctx: TranslateContext, clusterName: string): ClaJson | undefined {
  const parsed = parseClusterName(clusterName);
  if (!parsed || parsed.direction !== 'outbound') return undefined;
  const service = serviceFor(ctx.snapshot, parsed.host, ctx.proxy.namespace);
  const port = service?.ports.find((p) => p.number === parsed.port);
  if (!service || !port) return undefined;
  const cla = loadAssignment(clusterName, port, clusterWorkloads(ctx, service, parsed.subset));
  const dr = destinationRuleFor(ctx.snapshot, service.hostname, ctx.proxy.namespace, ctx.proxy.labels);
  const policy = effectivePolicy(dr, port.number, parsed.subset);
  // Istio: locality load balancing takes effect only together with outlier detection.
  if (!policy.outlierDetection) return cla;
  const setting = policy.loadBalancer?.localityLbSetting;
  if (setting?.enabled !== false && setting?.failoverPriority?.length)
    return failoverPriorityAssignment(
      clusterName,
      port,
      clusterWorkloads(ctx, service, parsed.subset),
      setting.failoverPriority,
      ctx.proxy,
    );
  return applyLocalityLb(cla, policy.loadBalancer?.localityLbSetting, ctx.proxy.locality);
}

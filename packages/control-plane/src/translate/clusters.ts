// CDS: outbound clusters for every service port in the proxy's scope (plus one per
// DestinationRule subset), the inbound clusters to the local workload, and Istio's
// PassthroughCluster / BlackHoleCluster / InboundPassthroughCluster.
import type { clusterV3 } from '@skein/api-types';
import { destinationRuleFor, serviceFor } from '../model/snapshot.js';
import type { Service, ServicePort } from '../model/services.js';
import { endpointPort } from '../model/services.js';
import type { TranslateContext } from './context.js';
import {
  applyConnectionPool,
  applyLoadBalancer,
  applyOutlierDetection,
  destinationRuleTls,
  effectivePolicy,
} from './cluster-policy.js';
import { ADS_CONFIG_SOURCE, duration, socketAddress, T, typed } from './envoy.js';
import { usesLocalityWeights } from './locality.js';
import { endpointMetadata } from './endpoint-metadata.js';
import { inboundIngressTargets } from './inbound-ports.js';
import {
  BLACKHOLE_CLUSTER,
  INBOUND_PASSTHROUGH_BIND,
  INBOUND_PASSTHROUGH_CLUSTER,
  inboundClusterName,
  outboundClusterName,
  parseClusterName,
  PASSTHROUGH_CLUSTER,
} from './names.js';

export type ClusterJson = clusterV3.ClusterJson;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One outbound cluster: discovery type from the service's resolution, then the DR policy. */
export function outboundCluster(
  ctx: TranslateContext,
  service: Service,
  port: ServicePort,
  subset: string,
  grpc = false,
): ClusterJson {
  const name = outboundClusterName(port.number, subset, service.hostname);
  const c: Mutable<ClusterJson> = { name };
  if (service.resolution === 'DNS' || service.resolution === 'DNS_ROUND_ROBIN') {
    c.type = service.resolution === 'DNS' ? 'STRICT_DNS' : 'LOGICAL_DNS';
    const lbEndpoints =
      service.workloads.length > 0
        ? service.workloads.map((w) => ({
            endpoint: { address: socketAddress(w.address, endpointPort(w, port)) },
            ...endpointMetadata(w),
          }))
        : [{ endpoint: { address: socketAddress(service.hostname, port.targetPort ?? port.number) } }];
    c.loadAssignment = { clusterName: name, endpoints: [{ lbEndpoints }] };
    c.dnsLookupFamily = 'V4_ONLY';
  } else if (service.resolution === 'NONE' && service.registry === 'ServiceEntry' && !grpc) {
    c.type = 'ORIGINAL_DST';
  } else {
    c.type = 'EDS';
    c.edsClusterConfig = { edsConfig: ADS_CONFIG_SOURCE, serviceName: name };
  }
  const dr = destinationRuleFor(ctx.snapshot, service.hostname, ctx.proxy.namespace, ctx.proxy.labels);
  const policy = effectivePolicy(dr, port.number, subset);
  if (c.type === 'ORIGINAL_DST') c.lbPolicy = 'CLUSTER_PROVIDED';
  else applyLoadBalancer(c, policy.loadBalancer, grpc);
  applyConnectionPool(c, policy.connectionPool, port.protocol, ctx.snapshot.mesh.connectTimeout);
  applyOutlierDetection(c, policy.outlierDetection);
  if (
    policy.outlierDetection &&
    usesLocalityWeights(policy.loadBalancer?.localityLbSetting, ctx.proxy.locality)
  )
    c.commonLbConfig = { ...c.commonLbConfig, localityWeightedLbConfig: {} };
  const tlsInput = { service, port, subset, tls: policy.tls };
  const matches = grpc ? undefined : ctx.security.upstreamTransportSocketMatches?.(ctx, tlsInput);
  if (matches?.length) {
    c.transportSocketMatches = matches;
    return c;
  }
  const socket =
    ctx.security.upstreamTransportSocket?.(ctx, tlsInput) ?? destinationRuleTls(policy.tls, service.hostname);
  if (socket && !grpc) c.transportSocket = socket;
  return c;
}

/** The subsets a cluster exists for: the default ("") plus each DestinationRule subset. */
export function subsetsOf(ctx: TranslateContext, service: Service): string[] {
  const dr = destinationRuleFor(ctx.snapshot, service.hostname, ctx.proxy.namespace, ctx.proxy.labels);
  return ['', ...(dr?.spec.subsets ?? []).map((s) => s.name)];
}

function specialClusters(ctx: TranslateContext): ClusterJson[] {
  const connectTimeout = duration(ctx.snapshot.mesh.connectTimeout);
  const out: ClusterJson[] = [
    { name: BLACKHOLE_CLUSTER, type: 'STATIC', connectTimeout },
    { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', connectTimeout },
  ];
  if (ctx.proxy.interceptionMode !== 'NONE')
    out.push({
      name: INBOUND_PASSTHROUGH_CLUSTER,
      type: 'ORIGINAL_DST',
      lbPolicy: 'CLUSTER_PROVIDED',
      connectTimeout,
      upstreamBindConfig: { sourceAddress: { address: INBOUND_PASSTHROUGH_BIND, portValue: 0 } },
    });
  return out;
}

/** A sniffed port forwards to the app in the protocol the client used. */
const downstreamProtocol = () => ({
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': typed(T.httpProtocolOptions, {
    useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} },
  }),
});

/** Inbound clusters: a STATIC cluster to the app for each inbound port. */
export function inboundClusters(ctx: TranslateContext): ClusterJson[] {
  const connectTimeout = duration(ctx.snapshot.mesh.connectTimeout);
  return inboundIngressTargets(ctx).map((t) => ({
    name: inboundClusterName(t.port),
    type: 'STATIC',
    connectTimeout,
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: {
      clusterName: inboundClusterName(t.port),
      endpoints: [
        { lbEndpoints: [{ endpoint: { address: socketAddress(t.endpoint.address, t.endpoint.port) } }] },
      ],
    },
    ...(t.protocol === 'UNKNOWN' ? { typedExtensionProtocolOptions: downstreamProtocol() } : {}),
    ...(ctx.proxy.interceptionMode !== 'NONE' && t.endpoint.address !== '127.0.0.1'
      ? { upstreamBindConfig: { sourceAddress: { address: INBOUND_PASSTHROUGH_BIND, portValue: 0 } } }
      : {}),
  }));
}

/** Outbound clusters of a sidecar (and the special ones), sorted by name. */
export function outboundClusters(ctx: TranslateContext): ClusterJson[] {
  const out = new Map<string, ClusterJson>();
  for (const host of [...ctx.scope.hosts].sort()) {
    const service = serviceFor(ctx.snapshot, host, ctx.proxy.namespace);
    if (!service) continue;
    for (const port of service.ports)
      for (const subset of subsetsOf(ctx, service)) {
        const c = outboundCluster(ctx, service, port, subset);
        out.set(c.name ?? '', c);
      }
  }
  for (const c of specialClusters(ctx)) out.set(c.name ?? '', c);
  return [...out.values()].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
}

/** Every cluster of a sidecar, sorted by name. */
export function sidecarClusters(ctx: TranslateContext): ClusterJson[] {
  const inbound = inboundClusters(ctx);
  const taken = new Set(inbound.map((c) => c.name));
  return [...inbound, ...outboundClusters(ctx).filter((c) => !taken.has(c.name))].sort((a, b) =>
    (a.name ?? '') < (b.name ?? '') ? -1 : 1,
  );
}

/** Clusters a proxyless gRPC client asked for by name. */
export function grpcClusters(ctx: TranslateContext, names: readonly string[]): ClusterJson[] {
  const out: ClusterJson[] = [];
  for (const name of [...names].sort()) {
    const parsed = parseClusterName(name);
    if (!parsed || parsed.direction !== 'outbound') continue;
    const service = serviceFor(ctx.snapshot, parsed.host, ctx.proxy.namespace);
    const port = service?.ports.find((p) => p.number === parsed.port);
    if (!service || !port) continue;
    if (parsed.subset && !subsetsOf(ctx, service).includes(parsed.subset)) continue;
    out.push(outboundCluster(ctx, service, port, parsed.subset, true));
  }
  return out;
}

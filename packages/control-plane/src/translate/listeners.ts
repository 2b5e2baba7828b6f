// LDS for sidecars: the 15001 virtual outbound listener (original-destination handoff, falling
// back to PassthroughCluster or BlackHoleCluster), the per-port outbound listeners of the
// outbound plan, and inbound — the 15006 virtual inbound listener with a filter chain per
// workload port, or listeners of their own for captureMode NONE ingress. Ports of unknown
// protocol are sniffed (see sniffing.ts).
import type { listenerV3 } from '@skein/api-types';
import { isHttp } from '../model/protocol.js';
import { virtualServiceFor } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';
import { FilterName, socketAddress, T, typed } from './envoy.js';
import { hcmFilter, tcpProxyFilter } from './hcm.js';
import { inboundIngressTargets, type InboundTarget } from './inbound-ports.js';
import {
  BLACKHOLE_CLUSTER,
  inboundClusterName,
  INBOUND_CAPTURE_PORT,
  INBOUND_PASSTHROUGH_CLUSTER,
  listenerName,
  OUTBOUND_CAPTURE_PORT,
  PASSTHROUGH_CLUSTER,
  VIRTUAL_INBOUND,
  VIRTUAL_OUTBOUND,
} from './names.js';
import { outboundPlan, type OutboundListenerPlan } from './outbound-plan.js';
import { destinationCluster } from './http-routes.js';
import type { FilterChainJson, InboundPort, NetworkFilterJson } from './security.js';
import {
  HTTP_APPLICATION_PROTOCOLS,
  httpInspector,
  MTLS_HTTP_APPLICATION_PROTOCOLS,
  sniffingTimeout,
} from './sniffing.js';
import { telemetryPlan } from './telemetry.js';
import { sidecarTlsChains } from './tls-routes.js';
import { statsNetworkFilter } from './telemetry-metrics.js';

type ListenerJson = listenerV3.ListenerJson;

/** TPROXY interception (node metadata INTERCEPTION_MODE): the capture listeners are transparent, as Istio's. */
const transparent = (ctx: TranslateContext): { transparent?: true } =>
  ctx.proxy.interceptionMode === 'TPROXY' ? { transparent: true } : {};

function virtualOutbound(ctx: TranslateContext): ListenerJson {
  const fallback =
    ctx.scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
  return {
    name: VIRTUAL_OUTBOUND,
    address: socketAddress('0.0.0.0', OUTBOUND_CAPTURE_PORT),
    useOriginalDst: true,
    ...transparent(ctx),
    trafficDirection: 'OUTBOUND',
    filterChains: [
      { name: `${VIRTUAL_OUTBOUND}-catchall-tcp`, filters: [tcpProxyFilter(fallback, fallback)] },
    ],
  };
}

/** Telemetry metric overrides for TCP: the `istio.stats` network filter before tcp_proxy. */
function withStats(
  ctx: TranslateContext,
  mode: 'CLIENT' | 'SERVER',
  filters: NetworkFilterJson[],
): NetworkFilterJson[] {
  const metrics = telemetryPlan(ctx, mode).metrics;
  return metrics ? [statsNetworkFilter(metrics), ...filters] : filters;
}

function tcpFilterFor(ctx: TranslateContext, plan: OutboundListenerPlan): NetworkFilterJson[] {
  const tcp = plan.tcp;
  if (!tcp) {
    const fallback =
      ctx.scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
    return [tcpProxyFilter(fallback, fallback)];
  }
  const defaultCluster = `outbound|${tcp.port.number}||${tcp.service.hostname}`;
  const vs = virtualServiceFor(ctx.snapshot, tcp.service.hostname, ctx.proxy.namespace);
  const vsNs = vs?.metadata.namespace ?? 'default';
  const route = vs?.spec.tcp?.find((r) =>
    (r.match ?? [{}]).some(
      (m) =>
        (m.port === undefined || m.port === tcp.port.number) &&
        (!m.sourceLabels || Object.entries(m.sourceLabels).every(([k, v]) => ctx.proxy.labels[k] === v)),
    ),
  );
  if (!vs || !route?.route?.length) return [tcpProxyFilter(defaultCluster, defaultCluster)];
  const weighted = route.route.map((d) => ({
    name: destinationCluster(ctx, d.destination, vsNs, tcp.port.number),
    weight: d.weight ?? (route.route?.length === 1 ? 100 : 0),
  }));
  const first = weighted[0]?.name ?? defaultCluster;
  return [
    tcpProxyFilter(
      first,
      first,
      weighted.filter((w) => w.weight > 0),
    ),
  ];
}

function outboundListener(ctx: TranslateContext, plan: OutboundListenerPlan): ListenerJson {
  if (plan.sni) {
    const fallback =
      ctx.scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
    return {
      name: plan.name,
      address: socketAddress(plan.address, plan.port),
      bindToPort: false,
      trafficDirection: 'OUTBOUND',
      listenerFilters: [{ name: FilterName.tlsInspector, typedConfig: typed(T.tlsInspector, {}) }],
      filterChains: [
        ...plan.sni.flatMap(({ service, port }) => {
          const cluster = `outbound|${port.number}||${service.hostname}`;
          return (
            sidecarTlsChains(ctx, service, port) ?? [
              {
                filterChainMatch: { serverNames: [service.hostname] },
                filters: [tcpProxyFilter(cluster, cluster)],
              },
            ]
          );
        }),
        { name: 'passthrough', filters: [tcpProxyFilter(fallback, fallback)] },
      ],
    };
  }
  const hcm = () =>
    hcmFilter({
      statPrefix: `outbound_${plan.name}`,
      routeName: plan.routeName,
      mesh: ctx.snapshot.mesh,
      telemetry: telemetryPlan(ctx, 'CLIENT'),
    });
  if (plan.sniff)
    return {
      name: plan.name,
      address: socketAddress(plan.address, plan.port),
      ...(plan.bindToPort ? {} : { bindToPort: false }),
      trafficDirection: 'OUTBOUND',
      listenerFilters: [httpInspector()],
      ...sniffingTimeout(ctx.snapshot.mesh),
      filterChains: [
        {
          name: `${plan.name}-http`,
          filterChainMatch: { applicationProtocols: [...HTTP_APPLICATION_PROTOCOLS] },
          filters: [hcm()],
        },
        { name: `${plan.name}-tcp`, filters: withStats(ctx, 'CLIENT', tcpFilterFor(ctx, plan)) },
      ],
    };
  const tlsChains =
    !plan.http && plan.tcp && (plan.tcp.port.protocol === 'TLS' || plan.tcp.port.protocol === 'HTTPS')
      ? sidecarTlsChains(ctx, plan.tcp.service, plan.tcp.port)
      : undefined;
  if (tlsChains)
    return {
      name: plan.name,
      address: socketAddress(plan.address, plan.port),
      ...(plan.bindToPort ? {} : { bindToPort: false }),
      trafficDirection: 'OUTBOUND',
      listenerFilters: [tlsInspector()],
      filterChains: [
        ...tlsChains,
        { name: `${plan.name}-tcp`, filters: withStats(ctx, 'CLIENT', tcpFilterFor(ctx, plan)) },
      ],
    };
  const filters = plan.http ? [hcm()] : withStats(ctx, 'CLIENT', tcpFilterFor(ctx, plan));
  return {
    name: plan.name,
    address: socketAddress(plan.address, plan.port),
    ...(plan.bindToPort ? {} : { bindToPort: false }),
    trafficDirection: 'OUTBOUND',
    filterChains: [{ filters }],
  };
}

/**
 * The chains of one inbound port. A known protocol gets one chain (and its security variants);
 * an unknown one is sniffed: an HTTP chain matching the HTTP application protocols (inside mesh
 * mTLS: Istio's `istio-http/*` ALPN) and a TCP chain for the rest.
 */
function inboundChains(ctx: TranslateContext, t: InboundTarget, matchPort: boolean): FilterChainJson[] {
  if (t.protocol !== 'UNKNOWN') return inboundChain(ctx, t, matchPort, isHttp(t.protocol));
  const http = inboundChain(ctx, t, matchPort, true).map((c) => ({
    ...c,
    name: `${c.name ?? ''}-http`,
    filterChainMatch: {
      ...c.filterChainMatch,
      applicationProtocols:
        c.filterChainMatch?.transportProtocol === 'tls'
          ? [...MTLS_HTTP_APPLICATION_PROTOCOLS]
          : [...HTTP_APPLICATION_PROTOCOLS],
    },
  }));
  // The TCP chains must not claim the HTTP ALPN values too (Envoy rejects two chains with one match).
  const httpAlpn: readonly string[] = MTLS_HTTP_APPLICATION_PROTOCOLS;
  const tcp = inboundChain(ctx, t, matchPort, false).map((c) => {
    const alpn = c.filterChainMatch?.applicationProtocols;
    return alpn
      ? {
          ...c,
          filterChainMatch: {
            ...c.filterChainMatch,
            applicationProtocols: alpn.filter((p) => !httpAlpn.includes(p)),
          },
        }
      : c;
  });
  return [...http, ...tcp];
}

function inboundChain(
  ctx: TranslateContext,
  t: InboundTarget,
  matchPort: boolean,
  http: boolean,
): FilterChainJson[] {
  const cluster = inboundClusterName(t.port);
  const inboundPort = { port: t.port, protocol: http ? ('HTTP' as const) : ('TCP' as const) };
  const filters = http
    ? [
        hcmFilter({
          statPrefix: `inbound_0.0.0.0_${t.port}`,
          mesh: ctx.snapshot.mesh,
          telemetry: telemetryPlan(ctx, 'SERVER'),
          extraFilters: ctx.security.inboundHttpFilters?.(ctx, inboundPort),
          routeConfig: {
            name: cluster,
            validateClusters: false,
            virtualHosts: [
              {
                name: `inbound|http|${t.port}`,
                domains: ['*'],
                routes: [
                  {
                    name: 'default',
                    match: { prefix: '/' },
                    route: {
                      cluster,
                      timeout: '0s',
                      maxStreamDuration: { maxStreamDuration: '0s', grpcTimeoutHeaderMax: '0s' },
                    },
                  },
                ],
              },
            ],
          },
        }),
      ]
    : [
        ...(ctx.security.inboundNetworkFilters?.(ctx, inboundPort) ?? []),
        ...withStats(ctx, 'SERVER', [tcpProxyFilter(cluster, cluster)]),
      ];
  const plain: FilterChainJson = {
    name: cluster,
    ...(matchPort ? { filterChainMatch: { destinationPort: t.port } } : {}),
    filters,
  };
  return ctx.security.inboundFilterChains?.(ctx, inboundPort, plain) ?? [plain];
}

/** Chains matching on transport protocol or ALPN (mesh mTLS) need the TLS inspector to see them. */
function needsTlsInspector(chains: readonly FilterChainJson[]): boolean {
  const plaintextHttp: readonly string[] = HTTP_APPLICATION_PROTOCOLS;
  return chains.some(
    (c) =>
      c.filterChainMatch?.transportProtocol !== undefined ||
      c.filterChainMatch?.applicationProtocols?.some((p) => !plaintextHttp.includes(p)),
  );
}

const tlsInspector = () => ({ name: FilterName.tlsInspector, typedConfig: typed(T.tlsInspector, {}) });

/**
 * The virtual inbound listener's catch-all: a port no service names goes to the app as TCP, under
 * the workload's PeerAuthentication (STRICT: the mTLS chain only, as Istio's passthrough chains)
 * and its network AuthorizationPolicies.
 */
function passthroughChains(ctx: TranslateContext): FilterChainJson[] {
  const any: InboundPort = { port: 0, protocol: 'TCP' };
  const plain: FilterChainJson = {
    name: VIRTUAL_INBOUND,
    filters: [
      ...(ctx.security.inboundNetworkFilters?.(ctx, any) ?? []),
      tcpProxyFilter(INBOUND_PASSTHROUGH_CLUSTER, INBOUND_PASSTHROUGH_CLUSTER),
    ],
  };
  return ctx.security.inboundFilterChains?.(ctx, any, plain) ?? [plain];
}

/** Inbound: captureMode NONE ingress listeners and the 15006 virtual inbound listener. */
export function inboundListeners(ctx: TranslateContext): ListenerJson[] {
  const targets = inboundIngressTargets(ctx);
  const out: ListenerJson[] = [];
  for (const t of targets.filter((x) => x.bind !== undefined)) {
    const bind = t.bind ?? '0.0.0.0';
    const filterChains = inboundChains(ctx, t, false);
    const sniff = t.protocol === 'UNKNOWN';
    const listenerFilters = [
      ...(needsTlsInspector(filterChains) ? [tlsInspector()] : []),
      ...(sniff ? [httpInspector()] : []),
    ];
    out.push({
      name: listenerName(bind, t.port),
      address: socketAddress(bind, t.port),
      trafficDirection: 'INBOUND',
      ...(listenerFilters.length > 0 ? { listenerFilters } : {}),
      ...(sniff ? sniffingTimeout(ctx.snapshot.mesh) : {}),
      filterChains,
    });
  }
  if (ctx.proxy.interceptionMode === 'NONE') return out;
  const captured = targets.filter((x) => x.bind === undefined);
  const sniff = captured.some((t) => t.protocol === 'UNKNOWN');
  const chains = captured.flatMap((t) => inboundChains(ctx, t, true));
  chains.push(...passthroughChains(ctx));
  out.push({
    name: VIRTUAL_INBOUND,
    address: socketAddress('0.0.0.0', INBOUND_CAPTURE_PORT),
    ...transparent(ctx),
    // no use_original_dst: the original_dst listener filter restores the destination for the
    // filter-chain match; a handoff would give inbound connections to the outbound listener of
    // the same port
    trafficDirection: 'INBOUND',
    listenerFilters: [
      { name: FilterName.originalDst, typedConfig: typed(T.originalDst, {}) },
      // TPROXY: upstream connections keep the client's address (marked 1337, which the capture
      // rules route back to the proxy), as Istio's virtualInbound
      ...(ctx.proxy.interceptionMode === 'TPROXY'
        ? [{ name: FilterName.originalSrc, typedConfig: typed(T.originalSrc, { mark: 1337 }) }]
        : []),
      ...(needsTlsInspector(chains) ? [tlsInspector()] : []),
      ...(sniff ? [httpInspector()] : []),
    ],
    ...(sniff ? sniffingTimeout(ctx.snapshot.mesh) : {}),
    filterChains: chains,
  });
  return out;
}

/** Outbound listeners: the per-port ones of the outbound plan and the 15001 virtual listener. */
export function outboundListeners(ctx: TranslateContext): ListenerJson[] {
  const out = outboundPlan(ctx).map((p) => outboundListener(ctx, p));
  if (ctx.proxy.interceptionMode !== 'NONE') out.push(virtualOutbound(ctx));
  return out;
}

/**
 * Every listener of a sidecar, sorted by name. Two listeners on one address and port cannot
 * coexist (Envoy rejects the whole update): inbound wins, and the outbound one is left out.
 */
export function sidecarListeners(ctx: TranslateContext): ListenerJson[] {
  const out: ListenerJson[] = inboundListeners(ctx);
  const taken = new Set(out.map((l) => l.name));
  for (const l of outboundListeners(ctx)) if (!taken.has(l.name)) out.push(l);
  return out.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
}

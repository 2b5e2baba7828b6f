// Gateways (`router~` proxies): a listener per server port of every Gateway whose selector
// matches the proxy, bound to its real port — HTTP servers route through RDS `http.<port>` with a
// virtual host per VirtualService host bound to the gateway; SIMPLE/MUTUAL TLS servers terminate
// TLS (certificate files, or SDS by credentialName) per SNI host; ISTIO_MUTUAL servers terminate
// mesh mTLS with the workload certificate; PASSTHROUGH servers forward by SNI from the
// VirtualService's tls routes; AUTO_PASSTHROUGH servers forward by Istio's mesh SNI
// `outbound_.<port>_.<subset>_.<host>` to that cluster. A server's `bind` gives it a listener on
// that address (`<bind>_<port>`).
import { sdsConfig } from '@skein/ca';
import { CREDENTIAL_PREFIX } from './credentials.js';
import type { listenerV3, routeComponentsV3, routeV3 } from '@skein/api-types';
import { fqdn, hostMatches, labelsMatch } from '../model/hosts.js';
import type { Gateway, GatewayServer, VirtualService } from '../model/istio-types.js';
import { protocolOf, isHttp } from '../model/protocol.js';
import { fqdnGateway, serviceFor } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';
import { ADS_CONFIG_SOURCE, FilterName, socketAddress, T, typed } from './envoy.js';
import { hcmFilter, tcpProxyFilter } from './hcm.js';
import { destinationCluster, httpRoutes } from './http-routes.js';
import { listenerName, outboundClusterName } from './names.js';
import { subsetsOf } from './clusters.js';
import type { FilterChainJson } from './security.js';
import { telemetryPlan } from './telemetry.js';

const downstreamTls = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** Gateways selecting this proxy, with their `namespace/name`. */
export function gatewaysFor(ctx: TranslateContext): { gw: Gateway; ref: string }[] {
  return ctx.snapshot.gateways
    .filter((g) => labelsMatch(g.spec.selector ?? {}, ctx.proxy.labels))
    .map((gw) => ({ gw, ref: `${gw.metadata.namespace ?? 'default'}/${gw.metadata.name}` }));
}

/** VirtualServices bound to a gateway (`gateways:` names it, short names in the VS's namespace). */
function boundVirtualServices(ctx: TranslateContext, ref: string): VirtualService[] {
  return ctx.snapshot.virtualServices.filter((vs) =>
    (vs.spec.gateways ?? []).some((g) => fqdnGateway(g, vs.metadata.namespace ?? 'default') === ref),
  );
}

/** Server hosts are `ns/host` or `host`; the host part may be a wildcard. */
const serverHost = (h: string): string => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h);
const overlaps = (a: string, b: string): boolean => hostMatches(a, b) || hostMatches(b, a);

interface PortServers {
  readonly port: number;
  /** The servers' `bind` address, 0.0.0.0 when unset. */
  readonly bind: string;
  readonly servers: { server: GatewayServer; ref: string }[];
}

function serversByPort(ctx: TranslateContext): PortServers[] {
  const byPort = new Map<string, PortServers>();
  for (const { gw, ref } of gatewaysFor(ctx))
    for (const server of gw.spec.servers ?? []) {
      const port = server.port?.number;
      if (!port) continue;
      const bind = server.bind || '0.0.0.0';
      const key = `${bind}_${port}`;
      const entry = byPort.get(key) ?? { port, bind, servers: [] };
      entry.servers.push({ server, ref });
      byPort.set(key, entry);
    }
  return [...byPort.values()].sort((a, b) => a.port - b.port || (a.bind < b.bind ? -1 : 1));
}

/** The SDS source of the workload certificate (the bootstrap's `sds-grpc` cluster, as Istio). */
const WORKLOAD_SDS = sdsConfig();

/** ISTIO_MUTUAL: present the workload certificate, require a client certificate chained to ROOTCA. */
function istioMutualContext(): object {
  return {
    requireClientCertificate: true,
    commonTlsContext: {
      tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
      alpnProtocols: ['h2', 'http/1.1'],
      tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: WORKLOAD_SDS }],
      combinedValidationContext: {
        defaultValidationContext: {},
        validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: WORKLOAD_SDS },
      },
    },
  };
}

/**
 * AUTO_PASSTHROUGH: one chain per cluster of a service whose host the server exposes, matched on
 * Istio's mesh SNI; the client's mTLS passes through untouched.
 */
function autoPassthroughChains(ctx: TranslateContext, hosts: readonly string[]): FilterChainJson[] {
  const out: FilterChainJson[] = [];
  for (const host of [...ctx.scope.hosts].sort()) {
    if (!hosts.some((h) => overlaps(h, host))) continue;
    const service = serviceFor(ctx.snapshot, host, ctx.proxy.namespace);
    if (!service) continue;
    for (const p of service.ports)
      for (const subset of subsetsOf(ctx, service)) {
        const cluster = outboundClusterName(p.number, subset, host);
        out.push({
          name: cluster,
          filterChainMatch: { serverNames: [`outbound_.${p.number}_.${subset}_.${host}`] },
          filters: [tcpProxyFilter(cluster, cluster)],
        });
      }
  }
  return out;
}

function tlsContext(server: GatewayServer): object {
  const tls = server.tls ?? {};
  const common: Record<string, unknown> = {};
  if (tls.credentialName) {
    // Istio's names; skeind serves them over ADS from the gateway namespace's Secrets (credentials.ts).
    const secret = `${CREDENTIAL_PREFIX}${tls.credentialName}`;
    common['tlsCertificateSdsSecretConfigs'] = [{ name: secret, sdsConfig: ADS_CONFIG_SOURCE }];
    if (tls.mode === 'MUTUAL')
      common['validationContextSdsSecretConfig'] = { name: `${secret}-cacert`, sdsConfig: ADS_CONFIG_SOURCE };
  } else {
    if (tls.serverCertificate && tls.privateKey)
      common['tlsCertificates'] = [
        { certificateChain: { filename: tls.serverCertificate }, privateKey: { filename: tls.privateKey } },
      ];
    if (tls.mode === 'MUTUAL' && tls.caCertificates)
      common['validationContext'] = { trustedCa: { filename: tls.caCertificates } };
  }
  return { commonTlsContext: common, ...(tls.mode === 'MUTUAL' ? { requireClientCertificate: true } : {}) };
}

function gatewayListener(ctx: TranslateContext, ps: PortServers): listenerV3.ListenerJson {
  const name = listenerName(ps.bind, ps.port);
  const chains: FilterChainJson[] = [];
  let needsInspector = false;
  for (const { server, ref } of ps.servers) {
    const protocol = protocolOf({ protocol: server.port?.protocol, name: server.port?.name });
    const mode = server.tls?.mode;
    const hosts = (server.hosts ?? []).map(serverHost);
    const sni = hosts.filter((h) => h !== '*');
    if (mode === 'AUTO_PASSTHROUGH') {
      needsInspector = true;
      chains.push(...autoPassthroughChains(ctx, hosts));
      continue;
    }
    if (mode === 'PASSTHROUGH') {
      needsInspector = true;
      for (const vs of boundVirtualServices(ctx, ref))
        for (const route of vs.spec.tls ?? [])
          for (const m of route.match ?? []) {
            const dest = route.route?.[0]?.destination;
            if (!dest || (m.port !== undefined && m.port !== ps.port)) continue;
            const cluster = destinationCluster(ctx, dest, vs.metadata.namespace ?? 'default', ps.port);
            chains.push({
              filterChainMatch: { serverNames: [...(m.sniHosts ?? [])] },
              filters: [tcpProxyFilter(cluster, cluster)],
            });
          }
      continue;
    }
    const filters =
      isHttp(protocol) ||
      protocol === 'HTTPS' ||
      mode === 'SIMPLE' ||
      mode === 'MUTUAL' ||
      mode === 'ISTIO_MUTUAL'
        ? [
            hcmFilter({
              statPrefix: `outbound_${name}`,
              routeName: `http.${ps.port}`,
              mesh: ctx.snapshot.mesh,
              telemetry: telemetryPlan(ctx, 'CLIENT'),
            }),
          ]
        : [tcpProxyFilter('BlackHoleCluster', 'BlackHoleCluster')];
    if (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL') {
      needsInspector = true;
      chains.push({
        ...(sni.length > 0 ? { filterChainMatch: { serverNames: sni } } : {}),
        filters,
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: typed(
            downstreamTls,
            mode === 'ISTIO_MUTUAL' ? istioMutualContext() : tlsContext(server),
          ),
        },
      });
    } else if (!chains.some((c) => !c.filterChainMatch)) chains.push({ filters });
  }
  return {
    name,
    address: socketAddress(ps.bind, ps.port),
    trafficDirection: 'OUTBOUND',
    ...(needsInspector
      ? { listenerFilters: [{ name: FilterName.tlsInspector, typedConfig: typed(T.tlsInspector, {}) }] }
      : {}),
    filterChains: chains,
  };
}

export function gatewayListeners(ctx: TranslateContext): listenerV3.ListenerJson[] {
  return serversByPort(ctx)
    .map((ps) => gatewayListener(ctx, ps))
    .filter((l) => (l.filterChains ?? []).length > 0);
}

export function gatewayRouteConfigs(ctx: TranslateContext): routeV3.RouteConfigurationJson[] {
  const out: routeV3.RouteConfigurationJson[] = [];
  // One route configuration per port, over the servers of every bind address.
  const byPort = new Map<number, PortServers>();
  for (const ps of serversByPort(ctx)) {
    const e = byPort.get(ps.port);
    byPort.set(ps.port, e ? { ...e, servers: [...e.servers, ...ps.servers] } : ps);
  }
  for (const ps of byPort.values()) {
    const hostsSeen = new Set<string>();
    const vhosts: routeComponentsV3.VirtualHostJson[] = [];
    for (const { server, ref } of ps.servers) {
      if (server.tls?.mode === 'PASSTHROUGH' || server.tls?.mode === 'AUTO_PASSTHROUGH') continue;
      const serverHosts = (server.hosts ?? []).map(serverHost);
      for (const vs of boundVirtualServices(ctx, ref)) {
        const vsNs = vs.metadata.namespace ?? 'default';
        for (const host of (vs.spec.hosts ?? []).map((h) =>
          h.includes('.') || h === '*' ? h : fqdn(h, vsNs),
        )) {
          if (!serverHosts.some((sh) => overlaps(sh, host)) || hostsSeen.has(host)) continue;
          hostsSeen.add(host);
          const svc = serviceFor(ctx.snapshot, host, ctx.proxy.namespace);
          const port = svc?.ports.find((p) => p.number === ps.port) ?? {
            number: ps.port,
            name: `port-${ps.port}`,
            protocol: 'HTTP' as const,
          };
          vhosts.push({
            name: `${host}:${ps.port}`,
            domains: [host, `${host}:${ps.port}`],
            routes: httpRoutes(ctx, vs, svc ?? placeholderService(host), port, { grpc: false, gateway: ref }),
            ...(server.tls?.httpsRedirect ? { requireTls: 'ALL' as const } : {}),
          });
        }
      }
    }
    if (vhosts.length === 0) continue;
    vhosts.push({
      name: 'blackhole:' + ps.port,
      domains: ['*'],
      routes: [{ name: 'default', match: { prefix: '/' }, directResponse: { status: 404 } }],
    });
    out.push({ name: `http.${ps.port}`, virtualHosts: vhosts, validateClusters: false });
  }
  return out;
}

function placeholderService(host: string) {
  return {
    hostname: host,
    namespace: '',
    addresses: [],
    ports: [],
    resolution: 'NONE' as const,
    location: 'MESH_EXTERNAL' as const,
    exportTo: undefined,
    workloads: [],
    subjectAltNames: [],
    origin: 'gateway',
    registry: 'ServiceEntry' as const,
    createdAt: '',
  };
}

// The proxy bootstrap generator: workload identity and local addresses in, an Envoy v3 Bootstrap
// (canonical JSON) out. Used by everything that starts a proxy: the agent, the demo, tests.
import type {
  bootstrapV3,
  clusterV3,
  coreAddressV3,
  coreConfigSourceV3,
  httpConnectionManagerV3,
  httpProtocolOptionsV3,
  listenerV3,
  tlsV3,
} from '@skein/api-types';
import { sdsConfig } from '@skein/ca';
import { nodeId, nodeMetadata, serviceCluster, type WorkloadIdentity } from './node-identity.js';

/** Istio's SDS socket path, relative to the proxy's working directory. */
export const DEFAULT_SDS_SOCKET = './var/run/secrets/workload-spiffe-uds/socket';

/** Cluster names the bootstrap defines (the control plane and proxy know them by these names). */
export const BootstrapCluster = {
  xds: 'xds-grpc',
  sds: 'sds-grpc',
  admin: 'prometheus_stats',
  agent: 'agent',
} as const;

/** Where the proxy finds its xDS server: TCP (optionally TLS with the SDS certificate) or a Unix socket. */
export type DiscoveryAddress =
  | {
      host: string;
      port: number;
      /** Originate TLS with the workload certificate (SDS `default`), verify with `ROOTCA`. */
      tls?: { serverName?: string; verifySubjectAltName?: string };
    }
  | { unixSocket: string };

export interface HostPort {
  address: string;
  port: number;
}

export interface BootstrapOptions extends WorkloadIdentity {
  discovery: DiscoveryAddress;
  /** `DELTA_GRPC` (incremental) or `GRPC` (state of the world); default: `DELTA_GRPC` with VHDS. */
  adsApiType?: 'GRPC' | 'DELTA_GRPC';
  /**
   * Ask skeind for VHDS (node metadata `SKEIN_VHDS: "true"`): route configurations without their
   * virtual hosts, which come over delta xDS, so a VirtualService change sends one virtual host.
   * Implies `DELTA_GRPC` ADS (VHDS is delta only); ignored with an explicit `GRPC`. Default: on for
   * sidecars, off for routers (gateways keep state-of-the-world ADS with whole route
   * configurations). A bootstrap for a proxy other than skein-proxy passes `false`.
   */
  vhds?: boolean;
  /** The agent's SDS Unix socket; default Istio's `./var/run/secrets/workload-spiffe-uds/socket`. */
  sdsSocket?: string;
  /** Admin interface; default 127.0.0.1:15000. */
  admin?: Partial<HostPort>;
  /** Address the stats and readiness listeners bind; default 0.0.0.0. */
  listenAddress?: string;
  /** Prometheus listener port (serves `/stats/prometheus` from admin); default 15090, null omits it. */
  statsPort?: number | null;
  /** Readiness listener port (serves `/healthz/ready`); default 15021, null omits it. */
  readinessPort?: number | null;
  /**
   * Who answers `/healthz/ready` on the readiness port: `agent` (default; the agent's status
   * server, which knows whether the proxy has its first config) or `admin` (the proxy's own
   * admin `/ready`, for a proxy started without an agent).
   */
  readinessSource?: 'agent' | 'admin';
  /** The agent's status server (probes, merged metrics, readiness); default 127.0.0.1:15020. */
  agent?: Partial<HostPort>;
  /** Connect timeout of the bootstrap clusters in seconds; default 1. */
  connectTimeoutSeconds?: number;
}

type ClusterJson = clusterV3.ClusterJson;
type ListenerJson = listenerV3.ListenerJson;
type AddressJson = coreAddressV3.AddressJson;

const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** Builds the Envoy v3 bootstrap for one proxy, as canonical proto3 JSON. Pure and deterministic. */
export function buildBootstrap(o: BootstrapOptions): bootstrapV3.BootstrapJson {
  const admin = { address: o.admin?.address ?? '127.0.0.1', port: o.admin?.port ?? 15000 };
  const agent = { address: o.agent?.address ?? '127.0.0.1', port: o.agent?.port ?? 15020 };
  const listen = o.listenAddress ?? '0.0.0.0';
  const timeout = `${o.connectTimeoutSeconds ?? 1}s`;
  const statsPort = o.statsPort === undefined ? 15090 : o.statsPort;
  const readinessPort = o.readinessPort === undefined ? 15021 : o.readinessPort;
  const readinessSource = o.readinessSource ?? 'agent';

  const clusters: ClusterJson[] = [
    xdsCluster(o.discovery, timeout),
    grpcCluster(BootstrapCluster.sds, { pipe: { path: o.sdsSocket ?? DEFAULT_SDS_SOCKET } }, timeout),
    staticCluster(BootstrapCluster.admin, socketAddress(admin.address, admin.port), timeout),
  ];
  if (readinessPort !== null && readinessSource === 'agent') {
    clusters.push(staticCluster(BootstrapCluster.agent, socketAddress(agent.address, agent.port), timeout));
  }

  const listeners: ListenerJson[] = [];
  if (statsPort !== null) {
    listeners.push(
      httpListener(listen, statsPort, 'stats', '/stats/prometheus', BootstrapCluster.admin, undefined),
    );
  }
  if (readinessPort !== null) {
    listeners.push(
      readinessSource === 'agent'
        ? httpListener(listen, readinessPort, 'agent', '/healthz/ready', BootstrapCluster.agent, undefined)
        : httpListener(listen, readinessPort, 'agent', '/healthz/ready', BootstrapCluster.admin, '/ready'),
    );
  }

  const ads = { ads: {}, initialFetchTimeout: '0s', resourceApiVersion: 'V3' as const };
  const wantsVhds = o.vhds ?? (o.proxyType ?? 'sidecar') === 'sidecar';
  const apiType = o.adsApiType ?? (wantsVhds ? 'DELTA_GRPC' : 'GRPC');
  const vhds = wantsVhds && apiType === 'DELTA_GRPC';
  return {
    node: {
      id: nodeId(o),
      cluster: serviceCluster(o),
      locality: { ...(o.locality ?? {}) },
      metadata: nodeMetadata(
        vhds ? { ...o, extraMetadata: { ...(o.extraMetadata ?? {}), SKEIN_VHDS: 'true' } } : o,
      ) as Record<string, never>,
    },
    admin: {
      address: socketAddress(admin.address, admin.port),
    },
    staticResources: { listeners, clusters },
    dynamicResources: {
      ldsConfig: ads,
      cdsConfig: ads,
      adsConfig: {
        apiType,
        transportApiVersion: 'V3',
        setNodeOnFirstMessageOnly: true,
        grpcServices: [{ envoyGrpc: { clusterName: BootstrapCluster.xds } }],
      },
    },
  };
}

function socketAddress(address: string, port: number): AddressJson {
  return { socketAddress: { address, portValue: port } };
}

function staticCluster(name: string, address: AddressJson, connectTimeout: string): ClusterJson {
  return {
    name,
    type: 'STATIC',
    connectTimeout,
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address } }] }] },
  };
}

function grpcCluster(name: string, address: AddressJson, connectTimeout: string): ClusterJson {
  return {
    ...staticCluster(name, address, connectTimeout),
    typedExtensionProtocolOptions: {
      [HTTP_OPTIONS_KEY]: typed<httpProtocolOptionsV3.HttpProtocolOptionsJson>(
        `type.googleapis.com/${HTTP_OPTIONS_KEY}`,
        { explicitHttpConfig: { http2ProtocolOptions: {} } },
      ),
    },
  };
}

function xdsCluster(d: DiscoveryAddress, connectTimeout: string): ClusterJson {
  if ('unixSocket' in d)
    return grpcCluster(BootstrapCluster.xds, { pipe: { path: d.unixSocket } }, connectTimeout);
  const isIp = /^[0-9.]+$|:/.test(d.host);
  const cluster: ClusterJson = {
    ...grpcCluster(BootstrapCluster.xds, socketAddress(d.host, d.port), connectTimeout),
    ...(isIp ? {} : { type: 'STRICT_DNS' as const }),
  };
  if (d.tls) {
    const san = d.tls.verifySubjectAltName;
    cluster.transportSocket = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: typed<tlsV3.UpstreamTlsContextJson>(TLS_TYPE, {
        ...(d.tls.serverName ? { sni: d.tls.serverName } : {}),
        commonTlsContext: {
          alpnProtocols: ['h2'],
          tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: sdsSource() }],
          combinedValidationContext: {
            defaultValidationContext: san
              ? { matchTypedSubjectAltNames: [{ sanType: 'URI', matcher: { exact: san } }] }
              : {},
            validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: sdsSource() },
          },
        },
      }),
    };
  }
  return cluster;
}

function sdsSource(): coreConfigSourceV3.ConfigSourceJson {
  return sdsConfig(BootstrapCluster.sds);
}

function httpListener(
  address: string,
  port: number,
  statPrefix: string,
  prefix: string,
  cluster: string,
  prefixRewrite: string | undefined,
): ListenerJson {
  return {
    name: `${address}_${port}`,
    address: socketAddress(address, port),
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: typed<httpConnectionManagerV3.HttpConnectionManagerJson>(HCM_TYPE, {
              statPrefix,
              routeConfig: {
                virtualHosts: [
                  {
                    name: 'backend',
                    domains: ['*'],
                    routes: [
                      {
                        match: { prefix },
                        route: { cluster, ...(prefixRewrite ? { prefixRewrite } : {}) },
                      },
                    ],
                  },
                ],
              },
              httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } }],
            }),
          },
        ],
      },
    ],
  };
}

/** A google.protobuf.Any in canonical JSON: the type URL plus the message's own JSON fields. */
function typed<T extends object>(typeUrl: string, body: T): { '@type': string } {
  return { '@type': typeUrl, ...body };
}

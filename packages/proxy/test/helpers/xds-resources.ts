// xDS resources for tests, as canonical JSON (camelCase) the way a control plane would send them.
import { HCM } from './upstreams.js';

export const ROUTER_FILTER = {
  name: 'envoy.filters.http.router',
  typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

export function edsCluster(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    type: 'EDS',
    connectTimeout: '1s',
    edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
    ...extra,
  };
}

export function assignment(name: string, ports: number[]): Record<string, unknown> {
  return {
    clusterName: name,
    endpoints: [
      {
        lbEndpoints: ports.map((p) => ({
          endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: p } } },
        })),
      },
    ],
  };
}

export function rdsListener(
  name: string,
  port: number,
  routeName: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    address: { socketAddress: { address: '127.0.0.1', portValue: port } },
    filterChains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typedConfig: {
              '@type': HCM,
              statPrefix: name,
              rds: { routeConfigName: routeName, configSource: { ads: {}, resourceApiVersion: 'V3' } },
              httpFilters: [ROUTER_FILTER],
            },
          },
        ],
      },
    ],
    ...extra,
  };
}

export function routeTo(
  name: string,
  cluster: string,
  routeExtra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    virtualHosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster, ...routeExtra } }],
      },
    ],
  };
}

/** A static HTTP/2 cluster to a gRPC server on loopback `port` (the xDS or SDS server). */
export function grpcCluster(name: string, port: number): Record<string, unknown> {
  return {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    typedExtensionProtocolOptions: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicitHttpConfig: { http2ProtocolOptions: {} },
      },
    },
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: [
            { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } },
          ],
        },
      ],
    },
  };
}

export function adsBootstrap(adsPort: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    node: { id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local', cluster: 'client' },
    admin: { address: { socketAddress: { address: '127.0.0.1', portValue: 0 } } },
    dynamicResources: {
      adsConfig: {
        apiType: 'GRPC',
        transportApiVersion: 'V3',
        grpcServices: [{ envoyGrpc: { clusterName: 'xds-grpc' } }],
      },
      ldsConfig: { ads: {}, resourceApiVersion: 'V3' },
      cdsConfig: { ads: {}, resourceApiVersion: 'V3' },
    },
    staticResources: {
      clusters: [grpcCluster('xds-grpc', adsPort)],
    },
    ...extra,
  };
}

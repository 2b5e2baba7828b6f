// The proxy-config tables over an Envoy-style dump (snake_case, as Envoy prints it).
import { describe, expect, it } from 'vitest';
import { proxyStatusTable } from '../commands/proxy-status.js';
import { readConfigDump } from './dump.js';
import { clustersTable, endpointsTable, listenersTable, routesTable } from './render.js';

const dump = {
  configs: [
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      bootstrap: { node: { id: 'sidecar~10.0.0.1~a.ns~ns.svc.cluster.local' } },
    },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      dynamic_active_clusters: [
        {
          version_info: 'v1',
          cluster: {
            '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
            name: 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local',
            type: 'EDS',
          },
        },
        { version_info: 'v1', cluster: { name: 'PassthroughCluster', type: 'ORIGINAL_DST' } },
      ],
    },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      dynamic_listeners: [
        {
          name: '0.0.0.0_9080',
          active_state: {
            version_info: 'v1',
            listener: {
              name: '0.0.0.0_9080',
              address: { socket_address: { address: '0.0.0.0', port_value: 9080 } },
              filter_chains: [
                {
                  filter_chain_match: {
                    transport_protocol: 'raw_buffer',
                    application_protocols: ['http/1.1', 'h2c'],
                  },
                  filters: [
                    {
                      name: 'envoy.filters.network.http_connection_manager',
                      typed_config: {
                        '@type':
                          'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                        rds: { route_config_name: '9080' },
                      },
                    },
                  ],
                },
              ],
            },
          },
        },
      ],
    },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      dynamic_route_configs: [
        {
          version_info: 'v1',
          route_config: {
            name: '9080',
            virtual_hosts: [
              {
                name: 'reviews.bookinfo.svc.cluster.local:9080',
                domains: ['reviews.bookinfo.svc.cluster.local', 'reviews'],
                routes: [
                  {
                    match: { prefix: '/' },
                    metadata: {
                      filter_metadata: {
                        istio: {
                          config: '/apis/networking.istio.io/v1/namespaces/bookinfo/virtual-service/reviews',
                        },
                      },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  ],
};

describe('proxy-config tables', () => {
  const d = readConfigDump(dump);
  it('lists clusters with Istio names split into columns', () => {
    expect(clustersTable(d)).toMatch(/reviews\.bookinfo\.svc\.cluster\.local\s+9080\s+v2\s+outbound\s+EDS/);
    expect(clustersTable(d)).toMatch(/PassthroughCluster\s+-\s+-\s+-\s+ORIGINAL_DST/);
  });
  it('lists listeners by filter chain', () => {
    expect(listenersTable(d)).toMatch(
      /0\.0\.0\.0\s+9080\s+Trans: raw_buffer; App: http\/1\.1,h2c\s+Route: 9080/,
    );
  });
  it('lists routes with their VirtualService', () => {
    expect(routesTable(d)).toMatch(
      /9080\s+reviews\.bookinfo\.svc\.cluster\.local:9080\s+reviews\.bookinfo\.svc\.cluster\.local, reviews\s+\/\*\s+reviews\.bookinfo/,
    );
  });
  it('lists endpoints with health and outlier state', () => {
    const t = endpointsTable({
      cluster_statuses: [
        {
          name: 'outbound|9080|v2|reviews',
          host_statuses: [
            {
              address: { socket_address: { address: '10.0.0.7', port_value: 9080 } },
              health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true },
            },
          ],
        },
      ],
    });
    expect(t).toMatch(/10\.0\.0\.7:9080\s+HEALTHY\s+FAILED\s+outbound\|9080\|v2\|reviews/);
  });
});

describe('proxy-status table', () => {
  it('shows each type as SYNCED, STALE, NACKED or NOT SENT', () => {
    const t = proxyStatusTable({
      controlPlaneVersion: '0.1.0',
      configVersion: 'abc',
      proxies: [
        {
          proxyId: 'sidecar~127.0.0.20~client.demo~demo.svc.cluster.local',
          connectionId: '1',
          namespace: 'demo',
          clusterId: 'Kubernetes',
          istioVersion: '0.1.0',
          generator: 'envoy',
          protocol: 'sotw',
          connectedAt: '2026-11-25T00:00:00Z',
          types: [
            {
              typeUrl: 'c',
              type: 'CDS',
              sentVersion: '1',
              sentNonce: 'a',
              ackedVersion: '1',
              ackedNonce: 'a',
              status: 'SYNCED',
              ackLagMs: 3,
              resources: 2,
            },
            {
              typeUrl: 'l',
              type: 'LDS',
              sentVersion: '2',
              sentNonce: 'b',
              ackedVersion: '1',
              ackedNonce: 'a',
              status: 'STALE',
              ackLagMs: null,
              resources: 2,
            },
            {
              typeUrl: 'r',
              type: 'RDS',
              sentVersion: '2',
              sentNonce: 'c',
              ackedVersion: '1',
              ackedNonce: 'a',
              status: 'NACKED',
              nack: { version: '2', nonce: 'c', message: 'bad route', at: 'now' },
              ackLagMs: null,
              resources: 1,
            },
          ],
        },
      ],
    });
    expect(t).toMatch(
      /client\.demo~demo\.svc\.cluster\.local\s+Kubernetes\s+SYNCED\s+STALE\s+NOT SENT\s+NACKED \(bad route\)\s+NOT SENT\s+0\.1\.0/,
    );
  });
});

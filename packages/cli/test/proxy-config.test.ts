// skeinctl proxy-config against a real skein-proxy started from an Envoy bootstrap with static
// listeners, routes and clusters: the tables show what the proxy actually holds.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { startProxy, type RunningProxy } from '@skein/proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');
let proxy: RunningProxy;
let admin = '';

const cluster = 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local';
const bootstrap = {
  node: {
    id: 'sidecar~127.0.0.1~reviews-v1.bookinfo~bookinfo.svc.cluster.local',
    cluster: 'reviews.bookinfo',
  },
  admin: { address: { socketAddress: { address: '127.0.0.1', portValue: 0 } } },
  staticResources: {
    listeners: [
      {
        name: '127.0.0.1_0',
        address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
        filterChains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typedConfig: {
                  '@type':
                    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                  statPrefix: 'outbound',
                  routeConfig: {
                    name: 'static-9080',
                    virtualHosts: [
                      {
                        name: 'reviews.bookinfo.svc.cluster.local:9080',
                        domains: ['reviews.bookinfo.svc.cluster.local', 'reviews'],
                        routes: [{ match: { prefix: '/' }, route: { cluster } }],
                      },
                    ],
                  },
                  httpFilters: [
                    {
                      name: 'envoy.filters.http.router',
                      typedConfig: {
                        '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                      },
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: cluster,
        type: 'STATIC',
        connectTimeout: '1s',
        loadAssignment: {
          clusterName: cluster,
          endpoints: [
            {
              lbEndpoints: [
                { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 9 } } } },
              ],
            },
          ],
        },
      },
    ],
  },
};

beforeAll(async () => {
  proxy = await startProxy(bootstrap as never, { logLevel: 'error' });
  const a = proxy.adminAddress;
  if (!a) throw new Error('proxy has no admin address');
  admin = `http://${a.address}:${a.port}`;
});
afterAll(async () => proxy?.stop());

// Asynchronous on purpose: the proxy runs in this process and must keep serving its admin API.
const pc = async (...args: string[]) =>
  (await promisify(execFile)(bin, ['proxy-config', ...args, '--admin', admin])).stdout;

describe('skeinctl proxy-config on a real proxy', () => {
  it('clusters', async () =>
    expect(await pc('clusters')).toMatch(
      /reviews\.bookinfo\.svc\.cluster\.local\s+9080\s+v1\s+outbound\s+STATIC/,
    ));
  it('listeners', async () =>
    expect(await pc('listeners')).toMatch(
      /127\.0\.0\.1\s+\d+\s+ALL\s+Inline Route: reviews\.bookinfo\.svc\.cluster\.local:9080/,
    ));
  it('endpoints', async () =>
    expect(await pc('endpoints')).toMatch(/127\.0\.0\.1:9\s+\S+\s+OK\s+outbound\|9080\|v1\|reviews/));
  it('bootstrap', async () =>
    expect(await pc('bootstrap')).toMatch(/sidecar~127\.0\.0\.1~reviews-v1\.bookinfo/));
  it('json', async () => {
    const clusters = JSON.parse(await pc('clusters', '-o', 'json')) as { cluster: { name: string } }[];
    expect(clusters.map((c) => c.cluster.name)).toContain(cluster);
  });
});

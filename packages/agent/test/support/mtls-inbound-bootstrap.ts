// The skein-proxy bootstrap the SDS interop tests run: buildBootstrap's, without xDS, with one
// static listener terminating mesh mTLS (the given downstream TLS context, certificates over the
// agent's SDS socket) in front of a direct response "hello from db".
import { join } from 'node:path';
import { DOWNSTREAM_TLS_TYPE } from '@skein/ca';
import { buildBootstrap } from '../../src/bootstrap/build-bootstrap.js';
import { freePort } from './processes.js';

export async function mtlsInboundBootstrap(o: {
  dir: string;
  sdsSocket: string;
  port: number;
  tlsContext: object;
}): Promise<ReturnType<typeof buildBootstrap>> {
  const b = buildBootstrap({
    podName: 'db-0',
    namespace: 'shop',
    podIp: '127.0.0.1',
    serviceAccount: 'db',
    discovery: { unixSocket: join(o.dir, 'unused-xds.sock') },
    sdsSocket: o.sdsSocket,
    admin: { address: '127.0.0.1', port: await freePort() },
    statsPort: null,
    readinessPort: null,
  });
  delete b.dynamicResources;
  b.staticResources!.clusters = b.staticResources!.clusters!.filter((c) => c.name !== 'xds-grpc');
  b.staticResources!.listeners = [
    {
      name: 'mtls_in',
      address: { socketAddress: { address: '127.0.0.1', portValue: o.port } },
      filterChains: [
        {
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            typedConfig: { '@type': DOWNSTREAM_TLS_TYPE, ...o.tlsContext },
          },
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typedConfig: {
                '@type':
                  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                statPrefix: 'in',
                routeConfig: {
                  virtualHosts: [
                    {
                      name: 'all',
                      domains: ['*'],
                      routes: [
                        {
                          match: { prefix: '/' },
                          directResponse: { status: 200, body: { inlineString: 'hello from db' } },
                        },
                      ],
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
    } as never,
  ];
  return b;
}

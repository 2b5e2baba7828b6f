// original_src on HTTP/2 and TLS upstreams, on loopback: a listener with the original_src
// listener filter in front of an h2c cluster, a TLS (ALPN h2) cluster and an HTTP/1.1-over-TLS
// cluster, all bound to 127.0.0.6 as Istio's inbound clusters are; clients connecting from
// 127.0.0.21 and 127.0.0.22 reach apps that see each client's own address, not the proxy's, over
// one upstream connection per client. Needs the native
// addon (built by `npm run build` with gcc) and CAP_NET_ADMIN for IP_TRANSPARENT (root).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { connectFromSource, originalSourceUnavailable } from '../src/listener/original-src.js';
import { ADMIN, httpListener, staticCluster, anyHostRoutes } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';

/** Whether this process may open transparent sockets (the addon built, CAP_NET_ADMIN held). */
function transparentAllowed(): boolean {
  if (originalSourceUnavailable() !== undefined) return false;
  const r = connectFromSource({ address: '127.0.0.1', mark: 0 }, '127.0.0.1', 9);
  if ('error' in r) return false;
  r.socket.on('error', () => {});
  r.socket.destroy();
  return true;
}

const ready = transparentAllowed() && hasOpenssl();

/** An HTTP/2 app answering each request with its peer address and client port. */
function app(server: http2.Http2Server | http2.Http2SecureServer | https.Server): void {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
    res.end(`${req.socket.remoteAddress} ${req.socket.remotePort}`),
  );
}

/** A GET through the proxy on a new connection from `from`. */
function getFrom(port: number, path: string, from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress: from, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.end();
  });
}

// Skipped only where transparent sockets cannot be opened (no addon or not root) or no openssl.
describe.skipIf(!ready)('original_src over HTTP/2 upstream connections', () => {
  let pki: TestPki;
  let h2c: http2.Http2Server;
  let h2tls: http2.Http2SecureServer;
  let h1tls: https.Server;
  let proxy: RunningProxy;
  let port: number;

  beforeAll(async () => {
    pki = makePki();
    const leaf = pki.leaf('', { dns: ['app.local'] });
    h2c = http2.createServer();
    h2tls = http2.createSecureServer({ cert: leaf.cert, key: leaf.key });
    h1tls = https.createServer({ cert: leaf.cert, key: leaf.key });
    for (const s of [h2c, h2tls, h1tls]) {
      app(s);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    }
    const h2 = {
      http2_protocol_options: {},
      upstream_bind_config: { source_address: { address: '127.0.0.6' } },
    };
    const tls = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': `${TLS}UpstreamTlsContext`,
        sni: 'app.local',
        common_tls_context: { validation_context: { trusted_ca: { inline_string: pki.ca } } },
      },
    };
    proxy = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            httpListener(
              'inbound',
              anyHostRoutes([
                { match: { prefix: '/tls' }, route: { cluster: 'h2-tls' } },
                { match: { prefix: '/h1tls' }, route: { cluster: 'h1-tls' } },
                { match: { prefix: '/' }, route: { cluster: 'h2c' } },
              ]),
              {},
              {
                listener_filters: [
                  {
                    name: 'envoy.filters.listener.original_src',
                    typed_config: {
                      '@type':
                        'type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc',
                    },
                  },
                ],
              },
            ),
          ],
          clusters: [
            staticCluster('h2c', [(h2c.address() as AddressInfo).port], h2),
            staticCluster('h2-tls', [(h2tls.address() as AddressInfo).port], {
              ...h2,
              transport_socket: tls,
            }),
            staticCluster('h1-tls', [(h1tls.address() as AddressInfo).port], {
              upstream_bind_config: h2.upstream_bind_config,
              transport_socket: tls,
            }),
          ],
        },
      },
      { logLevel: 'off' },
    );
    port = proxy.listenerAddress('inbound')?.port ?? 0;
  });

  afterAll(async () => {
    await proxy?.stop();
    for (const s of [h2c, h2tls, h1tls]) await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    pki?.cleanup();
  });

  for (const [kind, path] of [
    ['h2c', '/'],
    ['TLS (HTTP/2)', '/tls'],
    ['TLS (HTTP/1.1)', '/h1tls'],
  ] as const) {
    it(`${kind}: the app sees each client's address, one upstream connection per client`, async () => {
      const a1 = await getFrom(port, path, '127.0.0.21');
      const a2 = await getFrom(port, path, '127.0.0.21');
      const b = await getFrom(port, path, '127.0.0.22');
      const [statusA, peerA, portA1] = a1.split(' ');
      expect([statusA, peerA]).toEqual(['200', '127.0.0.21']);
      // The second request from the same client rides the same upstream connection.
      expect(a2).toBe(`200 127.0.0.21 ${portA1}`);
      expect(b.split(' ').slice(0, 2)).toEqual(['200', '127.0.0.22']);
    });
  }
});

// transport_socket_matches on DNS clusters' resolved hosts: Envoy gives each host a STRICT_DNS or
// LOGICAL_DNS name resolves to the metadata of its endpoint (and of its locality), so a match on
// that metadata picks the host's socket. One STRICT_DNS cluster resolves `localhost` twice: the
// endpoint with `tlsMode: istio` reaches a TLS server (verified: CA and SAN), the other a
// plaintext one; every request through the cluster succeeds on both. A LOGICAL_DNS cluster whose
// locality carries the metadata reaches the TLS server. Real sockets on loopback.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, type Echo } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const SAN = 'spiffe://cluster.local/ns/default/sa/tls-app';
const MATCH_KEY = 'envoy.transport_socket_match';

describe.skipIf(!hasOpenssl())('transport_socket_matches for DNS clusters’ resolved hosts', () => {
  let pki: TestPki;
  let plain: Echo;
  let secure: https.Server;
  let proxy: RunningProxy;
  let port = 0;

  beforeAll(async () => {
    pki = makePki();
    const leaf = pki.leaf(SAN);
    plain = await startEcho('plain');
    secure = https.createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) =>
      res.end(JSON.stringify({ name: 'tls' })),
    );
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    const securePort = (secure.address() as AddressInfo).port;
    const endpoint = (p: number, tlsMode?: string) => ({
      endpoint: { address: { socket_address: { address: 'localhost', port_value: p } } },
      ...(tlsMode ? { metadata: { filter_metadata: { [MATCH_KEY]: { tlsMode } } } } : {}),
    });
    const tlsMatch = {
      name: 'tlsMode-istio',
      match: { tlsMode: 'istio' },
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': `${TLS}UpstreamTlsContext`,
          common_tls_context: {
            validation_context: {
              trusted_ca: { inline_string: pki.ca },
              match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: SAN } }],
            },
          },
        },
      },
    };
    const dnsCluster = (name: string, type: string, endpoints: unknown[]) => ({
      name,
      type,
      connect_timeout: '1s',
      dns_lookup_family: 'V4_ONLY',
      load_assignment: { cluster_name: name, endpoints },
      transport_socket_matches: [tlsMatch],
    });
    proxy = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            httpListener('out', {
              name: 'out',
              virtual_hosts: [
                {
                  name: 'all',
                  domains: ['*'],
                  routes: [
                    { match: { prefix: '/logical' }, route: { cluster: 'logical' } },
                    { match: { prefix: '/' }, route: { cluster: 'strict' } },
                  ],
                },
              ],
            }),
          ],
          clusters: [
            dnsCluster('strict', 'STRICT_DNS', [
              { lb_endpoints: [endpoint(securePort, 'istio'), endpoint(plain.port)] },
            ]),
            // The metadata on the locality only.
            dnsCluster('logical', 'LOGICAL_DNS', [
              {
                metadata: { filter_metadata: { [MATCH_KEY]: { tlsMode: 'istio' } } },
                lb_endpoints: [endpoint(securePort)],
              },
            ]),
          ],
        },
      },
      { logLevel: 'off' },
    );
    await proxy.waitReady();
    port = proxy.listenerAddress('out')!.port;
  });

  afterAll(async () => {
    await proxy?.stop();
    await plain?.close();
    secure?.closeAllConnections();
    await new Promise<void>((r) => (secure ? secure.close(() => r()) : r()));
    pki?.cleanup();
  });

  it('STRICT_DNS: the resolved host of the tlsMode endpoint speaks TLS, the other plaintext', async () => {
    expect(proxy.clusters.get('strict')?.hosts.map((h) => h.address)).toEqual(['127.0.0.1', '127.0.0.1']);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await get(port, '/');
      expect(r.status).toBe(200);
      seen.push((JSON.parse(r.text) as { name: string }).name);
    }
    expect(seen.sort()).toEqual(['plain', 'plain', 'tls', 'tls']);
  });

  it('LOGICAL_DNS: the locality metadata picks the TLS socket for its resolved host', async () => {
    const r = await get(port, '/logical');
    expect(r).toMatchObject({ status: 200 });
    expect(JSON.parse(r.text)).toEqual({ name: 'tls' });
  });
});

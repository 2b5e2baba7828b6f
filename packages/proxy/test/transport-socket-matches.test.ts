// Per-endpoint transport sockets (Istio's auto mTLS for a service half in the mesh): one cluster
// with two endpoints — one whose EDS metadata says `tlsMode: istio` (a TLS server that requires a
// client certificate chained to the mesh root: the "injected pod") and one without (a plaintext
// server: the pod without a sidecar). transport_socket_matches choose mTLS for the first and
// plaintext for the second; every request through the one cluster succeeds on both. The same with
// the metadata on the endpoints' localities (LocalityLbEndpoints.metadata) instead. Active health
// checks use each host's socket (mTLS for the meshed one), or the one their
// transport_socket_match_criteria pick.
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, type Echo } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const SVC = 'half.default.svc.cluster.local';

describe.skipIf(!hasOpenssl())(
  'transport_socket_matches: a meshed and a plain endpoint in one cluster',
  () => {
    let pki: TestPki;
    let plain: Echo;
    let meshed: https.Server;
    let meshedPort = 0;
    const clientCertsSeen: string[] = [];
    let client: RunningProxy;
    let port = 0;

    beforeAll(async () => {
      pki = makePki();
      const serverLeaf = pki.leaf('spiffe://cluster.local/ns/default/sa/half');
      const clientLeaf = pki.leaf('spiffe://cluster.local/ns/default/sa/client');
      plain = await startEcho('plain');
      meshed = https.createServer(
        {
          cert: serverLeaf.cert,
          key: serverLeaf.key,
          ca: pki.ca,
          requestCert: true,
          rejectUnauthorized: true,
        },
        (req, res) => {
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          clientCertsSeen.push(peer.subjectaltname ?? '');
          res.end(JSON.stringify({ name: 'meshed' }));
        },
      );
      await new Promise<void>((r) => meshed.listen(0, '127.0.0.1', r));
      meshedPort = (meshed.address() as AddressInfo).port;
      const endpoint = (p: number, tlsMode?: string) => ({
        endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
        ...(tlsMode
          ? { metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode } } } }
          : {}),
      });
      const mtlsMatch = {
        name: 'tlsMode-istio',
        match: { tlsMode: 'istio' },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${TLS}UpstreamTlsContext`,
            sni: `outbound_.80_._.${SVC}`,
            common_tls_context: {
              alpn_protocols: ['istio-http/1.1', 'istio', 'http/1.1'],
              tls_certificates: [
                {
                  certificate_chain: { inline_string: clientLeaf.cert },
                  private_key: { inline_string: clientLeaf.key },
                },
              ],
              validation_context: {
                trusted_ca: { inline_string: pki.ca },
                match_typed_subject_alt_names: [
                  {
                    san_type: 'URI',
                    matcher: { exact: 'spiffe://cluster.local/ns/default/sa/half' },
                  },
                ],
              },
            },
          },
        },
      };
      const healthCheck = (extra: Record<string, unknown> = {}) => ({
        timeout: '2s',
        interval: '30s',
        no_traffic_interval: '30s',
        healthy_threshold: 1,
        unhealthy_threshold: 1,
        http_health_check: { path: '/healthz' },
        ...extra,
      });
      client = await startProxy(
        {
          node: { id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local' },
          admin: ADMIN,
          static_resources: {
            listeners: [
              httpListener(
                'outbound',
                {
                  name: 'out',
                  virtual_hosts: [
                    {
                      name: SVC,
                      domains: ['*'],
                      routes: [
                        { match: { prefix: '/by-locality' }, route: { cluster: 'by-locality' } },
                        { match: { prefix: '/' }, route: { cluster: `outbound|80||${SVC}` } },
                      ],
                    },
                  ],
                },
                {},
                { traffic_direction: 'OUTBOUND' },
              ),
            ],
            clusters: [
              {
                name: `outbound|80||${SVC}`,
                type: 'STATIC',
                connect_timeout: '1s',
                lb_policy: 'ROUND_ROBIN',
                load_assignment: {
                  cluster_name: `outbound|80||${SVC}`,
                  endpoints: [{ lb_endpoints: [endpoint(meshedPort, 'istio'), endpoint(plain.port)] }],
                },
                // Istio's shape: mTLS for `tlsMode: istio` endpoints, plaintext for the rest.
                transport_socket_matches: [
                  mtlsMatch,
                  {
                    name: 'tlsMode-disabled',
                    match: {},
                    transport_socket: {
                      name: 'envoy.transport_sockets.raw_buffer',
                      typed_config: {
                        '@type':
                          'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
                      },
                    },
                  },
                ],
              },
              {
                // Locality metadata only: meshed locality → mTLS; the other has none → the
                // cluster's own (plaintext) socket.
                name: 'by-locality',
                type: 'STATIC',
                connect_timeout: '1s',
                load_assignment: {
                  cluster_name: 'by-locality',
                  endpoints: [
                    {
                      locality: { zone: 'meshed' },
                      metadata: { filter_metadata: { 'envoy.transport_socket_match': { tlsMode: 'istio' } } },
                      lb_endpoints: [endpoint(meshedPort)],
                    },
                    { locality: { zone: 'plain' }, lb_endpoints: [endpoint(plain.port)] },
                  ],
                },
                transport_socket_matches: [mtlsMatch],
              },
              {
                // Each host checked over its own socket: mTLS for the meshed one, plaintext else.
                name: 'hc-own',
                type: 'STATIC',
                connect_timeout: '1s',
                load_assignment: {
                  cluster_name: 'hc-own',
                  endpoints: [{ lb_endpoints: [endpoint(meshedPort, 'istio'), endpoint(plain.port)] }],
                },
                transport_socket_matches: [mtlsMatch],
                health_checks: [healthCheck()],
              },
              {
                // No endpoint metadata (traffic would be plaintext): the criteria pick mTLS for checks.
                name: 'hc-criteria',
                type: 'STATIC',
                connect_timeout: '1s',
                load_assignment: {
                  cluster_name: 'hc-criteria',
                  endpoints: [{ lb_endpoints: [endpoint(meshedPort)] }],
                },
                transport_socket_matches: [mtlsMatch],
                health_checks: [healthCheck({ transport_socket_match_criteria: { tlsMode: 'istio' } })],
              },
              {
                // Criteria matching no entry: the cluster's own (plaintext) socket, which the TLS host fails.
                name: 'hc-criteria-none',
                type: 'STATIC',
                connect_timeout: '1s',
                load_assignment: {
                  cluster_name: 'hc-criteria-none',
                  endpoints: [{ lb_endpoints: [endpoint(meshedPort, 'istio')] }],
                },
                transport_socket_matches: [mtlsMatch],
                health_checks: [healthCheck({ transport_socket_match_criteria: { tlsMode: 'other' } })],
              },
            ],
          },
        },
        { logLevel: 'off' },
      );
      // Listeners bind once every health-checked cluster had its first round.
      await client.waitReady();
      port = client.listenerAddress('outbound')?.port ?? 0;
    });

    afterAll(async () => {
      await client?.stop();
      await plain?.close();
      await new Promise<void>((r) => {
        meshed?.closeAllConnections();
        if (meshed) meshed.close(() => r());
        else r();
      });
      pki?.cleanup();
    });

    it('reaches both endpoints through one cluster: mTLS to the meshed one, plaintext to the other', async () => {
      // Forget the health checks' requests (the next checks are 30 s away).
      clientCertsSeen.length = 0;
      plain.requests.length = 0;
      const names: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await get(port, `/call/${i}`, { host: SVC });
        expect(r.status, r.text).toBe(200);
        names.push(JSON.parse(r.text).name as string);
      }
      expect(names.filter((n) => n === 'meshed')).toHaveLength(4);
      expect(names.filter((n) => n === 'plain')).toHaveLength(4);
      // The meshed server requires a client certificate: each of its requests came with ours.
      expect(clientCertsSeen).toHaveLength(4);
      for (const san of clientCertsSeen) expect(san).toContain('spiffe://cluster.local/ns/default/sa/client');
      expect(plain.requests).toHaveLength(4);
    });

    it("health checks use each host's socket, or the one transport_socket_match_criteria pick", async () => {
      // The first round is over (the proxy is ready): each host has its first verdict.
      const text = await (await fetch(`http://127.0.0.1:${client.adminAddress?.port}/clusters`)).text();
      const flags = (cluster: string, p: number): string | undefined =>
        new RegExp(`^${cluster}::127\\.0\\.0\\.1:${p}::health_flags::(.*)$`, 'm').exec(text)?.[1];
      expect(flags('hc-own', meshedPort)).toBe('healthy');
      expect(flags('hc-own', plain.port)).toBe('healthy');
      expect(flags('hc-criteria', meshedPort)).toBe('healthy');
      expect(flags('hc-criteria-none', meshedPort)).toBe('/failed_active_hc');
    });

    it("matches on the locality's metadata when the endpoint has none", async () => {
      clientCertsSeen.length = 0;
      plain.requests.length = 0;
      const names: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await get(port, `/by-locality/${i}`, { host: SVC });
        expect(r.status, r.text).toBe(200);
        names.push(JSON.parse(r.text).name as string);
      }
      expect(names.sort()).toEqual(['meshed', 'meshed', 'plain', 'plain']);
      expect(clientCertsSeen).toHaveLength(2);
      expect(plain.requests).toHaveLength(2);
    });
  },
);

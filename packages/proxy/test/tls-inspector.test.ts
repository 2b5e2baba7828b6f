// A listener with a TLS inspector in front of a mutual-TLS chain and a plaintext chain (Istio's
// PERMISSIVE inbound): the inspector reads the ClientHello before TLS starts, and the TLS layer
// must still see those bytes; requests flow on both chains, keep-alive and large bodies included.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type Leaf, type TestPki } from './helpers/certs.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';

let pki: TestPki;
let clientLeaf: Leaf;
let app: Echo;
let proxy: RunningProxy;
let port: number;

/** One HTTPS request with the client certificate (or none) over the given agent. */
function httpsRequest(
  agent: https.Agent,
  path: string,
  body?: Buffer,
): Promise<{ status: number; text: string; socketReused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent, headers: { host: 'svc' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString(),
            socketReused: req.reusedSocket,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Skipped only where Debian's openssl is missing (it is part of every machine of this kind).
describe.skipIf(!hasOpenssl())('TLS inspector in front of a TLS chain and a plaintext chain', () => {
  beforeAll(async () => {
    pki = makePki();
    const serverLeaf = pki.leaf('spiffe://cluster.local/ns/default/sa/server');
    clientLeaf = pki.leaf(CLIENT_ID);
    app = await startEcho('app');
    const routes = {
      name: 'in',
      virtual_hosts: [
        { name: 'in', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
      ],
    };
    const listener = httpListener('inbound', routes) as { filter_chains: Record<string, unknown>[] };
    const plain = listener.filter_chains[0] ?? {};
    listener.filter_chains = [
      {
        ...plain,
        filter_chain_match: { transport_protocol: 'tls' },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${TLS}DownstreamTlsContext`,
            require_client_certificate: true,
            common_tls_context: {
              tls_certificates: [
                {
                  certificate_chain: { inline_string: serverLeaf.cert },
                  private_key: { inline_string: serverLeaf.key },
                },
              ],
              validation_context: { trusted_ca: { inline_string: pki.ca } },
            },
          },
        },
      },
      { ...plain, filter_chain_match: { transport_protocol: 'raw_buffer' } },
    ];
    proxy = await startProxy(
      {
        node: { id: 'sidecar~127.0.0.1~server.default~default.svc.cluster.local' },
        admin: ADMIN,
        static_resources: {
          listeners: [
            {
              ...listener,
              listener_filters: [
                {
                  name: 'envoy.filters.listener.tls_inspector',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
                  },
                },
              ],
            },
          ],
          clusters: [staticCluster('app', [app.port])],
        },
      },
      { logLevel: 'off' },
    );
    port = proxy.listenerAddress('inbound')?.port ?? 0;
  });

  afterAll(async () => {
    await proxy?.stop();
    await app?.close();
    pki?.cleanup();
  });

  it('terminates mutual TLS after the inspector read the ClientHello, on a kept-alive connection', async () => {
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: pki.ca,
      cert: clientLeaf.cert,
      key: clientLeaf.key,
      checkServerIdentity: () => undefined,
    });
    try {
      const first = await httpsRequest(agent, '/one');
      expect(first.status).toBe(200);
      expect(JSON.parse(first.text).url).toBe('/one');
      // A body much larger than one TLS record, then another request on the same connection.
      const big = Buffer.alloc(300_000, 'a');
      const posted = await httpsRequest(agent, '/big', big);
      expect(posted.status).toBe(200);
      expect(JSON.parse(posted.text).body.length).toBe(big.length);
      expect(posted.socketReused).toBe(true);
      const third = await httpsRequest(agent, '/three');
      expect(third.status).toBe(200);
      expect(third.socketReused).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('serves plaintext on the raw_buffer chain of the same listener', async () => {
    const r = await get(port, '/plain', { host: 'svc' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).url).toBe('/plain');
  });

  it('refuses a TLS client without a certificate', async () => {
    const agent = new https.Agent({ ca: pki.ca, checkServerIdentity: () => undefined });
    try {
      await expect(httpsRequest(agent, '/anon')).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  });
});

// x-forwarded-client-cert on real sockets: an Istio-style inbound listener (mutual TLS,
// APPEND_FORWARD with Subject, URI and DNS) appends the client's element to what the caller sent,
// for every request on a keep-alive connection; a plain listener with Envoy's default (SANITIZE)
// removes a caller's XFCC header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { once } from 'node:events';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type Leaf, type TestPki } from './helpers/certs.js';
import { withDownstreamTls } from './helpers/downstream-tls.js';

const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const ready = hasOpenssl();

let pki: TestPki;
let serverLeaf: Leaf;
let clientLeaf: Leaf;
let echo: Echo;
let proxy: RunningProxy;

function listener(name: string, hcmExtra: Record<string, unknown>, tlsContext?: Record<string, unknown>) {
  const routes = {
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'echo' } }] },
    ],
  };
  const l = httpListener(name, routes, hcmExtra);
  return tlsContext ? withDownstreamTls(l, tlsContext) : l;
}

beforeAll(async () => {
  if (!ready) return;
  pki = makePki();
  serverLeaf = pki.leaf(SERVER_ID);
  clientLeaf = pki.leaf(CLIENT_ID, { dns: ['client.default.svc'] });
  echo = await startEcho('echo');
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          listener(
            'inbound',
            {
              forward_client_cert_details: 'APPEND_FORWARD',
              set_current_client_cert_details: { subject: true, uri: true, dns: true },
            },
            {
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
          ),
          listener('plain', {}),
        ],
        clusters: [staticCluster('echo', [echo.port])],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  pki?.cleanup();
});

/** Sends `n` requests one after another on one mutual-TLS keep-alive connection. */
async function requestsOverOneConnection(port: number, n: number, xfcc: string): Promise<string[]> {
  const s = tls.connect({
    host: '127.0.0.1',
    port,
    ca: pki.ca,
    cert: clientLeaf.cert,
    key: clientLeaf.key,
    checkServerIdentity: () => undefined,
  });
  const statuses: string[] = [];
  try {
    await once(s, 'secureConnect');
    let got = '';
    for (let i = 0; i < n; i++) {
      s.write(`GET /r${i} HTTP/1.1\r\nhost: x\r\nx-forwarded-client-cert: ${xfcc}\r\n\r\n`);
      for (;;) {
        const end = got.indexOf('\r\n\r\n');
        const head = end < 0 ? '' : got.slice(0, end);
        // The echo's responses come chunked through the proxy: one ends with the last chunk.
        const last = got.indexOf('\r\n0\r\n\r\n', end);
        if (end >= 0 && last >= 0) {
          statuses.push(head.slice(0, 12));
          got = got.slice(last + 7);
          break;
        }
        const [d] = (await once(s, 'data')) as [Buffer];
        got += d.toString();
      }
    }
  } finally {
    s.destroy();
  }
  return statuses;
}

describe.skipIf(!ready)('x-forwarded-client-cert', () => {
  it('APPEND_FORWARD adds the client certificate element (By, Hash, Subject, URI, DNS) to each request', async () => {
    echo.requests.length = 0;
    const statuses = await requestsOverOneConnection(
      proxy.listenerAddress('inbound')?.port ?? 0,
      3,
      'By=spiffe://prior',
    );
    expect(statuses).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    const hash = createHash('sha256').update(new X509Certificate(clientLeaf.cert).raw).digest('hex');
    const element = `By=${SERVER_ID};Hash=${hash};Subject="O=skein-test";URI=${CLIENT_ID};DNS=client.default.svc`;
    expect(echo.requests.map((r) => r.headers['x-forwarded-client-cert'])).toEqual([
      `By=spiffe://prior,${element}`,
      `By=spiffe://prior,${element}`,
      `By=spiffe://prior,${element}`,
    ]);
  });

  it("the default (SANITIZE) removes a caller's header on a plain listener", async () => {
    echo.requests.length = 0;
    const r = await get(proxy.listenerAddress('plain')?.port ?? 0, '/', {
      'x-forwarded-client-cert': 'By=x',
    });
    expect(r.status).toBe(200);
    expect(echo.requests[0]?.headers['x-forwarded-client-cert']).toBeUndefined();
  });
});

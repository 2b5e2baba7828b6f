// TLS session resumption on reconnect: a mutual-TLS listener resumes a client's session (it used
// to fail the handshake: a server asking for client certificates needs a session id context) and
// still checks the client's SAN from the session; the upstream side offers the server's last
// session on each new pool connection (Envoy's default `max_session_keys`, 1) and checks the
// resumed server against the certificate it verified on the full handshake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type Leaf, type TestPki } from './helpers/certs.js';
import { withDownstreamTls } from './helpers/downstream-tls.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';

let pki: TestPki;
let clientLeaf: Leaf;
let serverLeaf: Leaf;
let proxy: RunningProxy;
let upstream: tls.Server;
/** Per upstream TLS connection, in order: whether it resumed a session, and the client's SAN. */
const upstreamConns: { resumed: boolean; clientSan: string | undefined }[] = [];

const cert = (l: Leaf): Record<string, unknown> => ({
  certificate_chain: { inline_string: l.cert },
  private_key: { inline_string: l.key },
});

const validation = (san: string): Record<string, unknown> => ({
  trusted_ca: { inline_string: pki.ca },
  match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: san } }],
});

function upstreamTls(): Record<string, unknown> {
  return {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': `${TLS}UpstreamTlsContext`,
        common_tls_context: {
          tls_certificates: [cert(clientLeaf)],
          validation_context: validation(SERVER_ID),
        },
      },
    },
  };
}

interface Visit {
  resumed: boolean;
  statusLine: string;
  session: Buffer | undefined;
}

/** One connection to the mTLS listener: a request, its response, and the session it was issued. */
function visit(port: number, session: Buffer | undefined): Promise<Visit> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      cert: clientLeaf.cert,
      key: clientLeaf.key,
      checkServerIdentity: () => undefined,
      ...(session ? { session } : {}),
    });
    let got = '';
    let issued: Buffer | undefined;
    let resumed = false;
    const settle = (): void => {
      // Close once the response is in and, on a full handshake, the session the server issued (no
      // timing assumptions; a resumed connection may get no new ticket).
      if ((issued || session) && got.includes('\r\n\r\nok')) s.destroy();
    };
    s.once('secureConnect', () => {
      resumed = s.isSessionReused();
      s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    s.on('session', (b: Buffer) => {
      issued = b;
      settle();
    });
    s.on('data', (d: Buffer) => {
      got += d.toString();
      settle();
    });
    s.once('error', reject);
    s.once('close', () => resolve({ resumed, statusLine: got.split('\r\n')[0] ?? '', session: issued }));
  });
}

const ready = hasOpenssl();

beforeAll(async () => {
  if (!ready) return;
  pki = makePki();
  clientLeaf = pki.leaf(CLIENT_ID);
  serverLeaf = pki.leaf(SERVER_ID);
  // The upstream: a TLS server requiring client certificates, closing after each response so
  // that every request through the proxy opens a new pool connection.
  upstream = tls.createServer(
    {
      cert: serverLeaf.cert,
      key: serverLeaf.key,
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: true,
      sessionIdContext: 'skein-resumption-test',
    },
    (s) => {
      const peer = s.getPeerX509Certificate();
      upstreamConns.push({ resumed: s.isSessionReused(), clientSan: peer?.subjectAltName });
      let head = '';
      s.on('data', (d: Buffer) => {
        head += d.toString();
        if (head.includes('\r\n\r\n'))
          s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nup');
      });
    },
  );
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as AddressInfo).port;
  const route = (prefix: string, cluster: string): Record<string, unknown> => ({
    match: { prefix },
    route: { cluster },
  });
  const plain = httpListener('mtls', {
    name: 'mtls',
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }],
      },
    ],
  });
  const mtls = withDownstreamTls(plain, {
    require_client_certificate: true,
    common_tls_context: { tls_certificates: [cert(serverLeaf)], validation_context: validation(CLIENT_ID) },
  });
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          mtls,
          httpListener('out', {
            name: 'out',
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routes: [route('/', 'resume')],
              },
            ],
          }),
        ],
        clusters: [staticCluster('resume', [upPort], upstreamTls())],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  if (upstream) await new Promise((r) => upstream.close(r));
  pki?.cleanup();
});

describe.skipIf(!ready)(
  'TLS session resumption (skipped without openssl: certificates are made with it)',
  () => {
    it('resumes a client session on a mutual-TLS listener and still checks the client SAN', async () => {
      const port = proxy.listenerAddress('mtls')?.port ?? 0;
      const first = await visit(port, undefined);
      expect(first).toMatchObject({ resumed: false, statusLine: 'HTTP/1.1 200 OK' });
      expect(first.session).toBeDefined();
      const second = await visit(port, first.session);
      // Served (the listener accepted the client's identity from the session) and resumed.
      expect(second).toMatchObject({ resumed: true, statusLine: 'HTTP/1.1 200 OK' });
      const third = await visit(port, second.session ?? first.session);
      expect(third).toMatchObject({ resumed: true, statusLine: 'HTTP/1.1 200 OK' });
    });

    it('offers the last session on each new upstream connection, verified against the first handshake', async () => {
      const port = proxy.listenerAddress('out')?.port ?? 0;
      upstreamConns.length = 0;
      for (let i = 0; i < 4; i++) {
        const r = await get(port, '/default');
        expect(r).toMatchObject({ status: 200, text: 'up' });
      }
      expect(upstreamConns.map((c) => c.resumed)).toEqual([false, true, true, true]);
      // The client certificate reaches the server on resumed connections too (from the session).
      expect(upstreamConns.every((c) => c.clientSan === `URI:${CLIENT_ID}`)).toBe(true);
    });
  },
);

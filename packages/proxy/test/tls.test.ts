// Downstream TLS on real sockets: several certificates per context chosen by SNI and key type,
// a listener whose SDS certificate has not arrived stays warming (unbound) until it does, and
// require_client_certificate with match_typed_subject_alt_names (type and value both count).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy, type TestAdsServer } from '../src/index.js';
import { ADMIN, httpListener, staticCluster } from './helpers/upstreams.js';
import { grpcCluster } from './helpers/xds-resources.js';
import { hasOpenssl, makePki, type Leaf, type TestPki } from './helpers/certs.js';
import { withDownstreamTls } from './helpers/downstream-tls.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';

let pki: TestPki;
let aEc: Leaf;
let aRsa: Leaf;
let bEc: Leaf;
let clientLeaf: Leaf;
let otherLeaf: Leaf;
let proxy: RunningProxy;
const others: RunningProxy[] = [];
let sds: TestAdsServer | undefined;

const cert = (l: Leaf): Record<string, unknown> => ({
  certificate_chain: { inline_string: l.cert },
  private_key: { inline_string: l.key },
});

/** A TLS listener answering every request with 200 "ok" from a direct response. */
function tlsListener(name: string, context: Record<string, unknown>): Record<string, unknown> {
  const l = httpListener(name, {
    name,
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }],
      },
    ],
  });
  return withDownstreamTls(l, context);
}

interface Handshake {
  ok: boolean;
  /** The server certificate's subjectaltname and key type. */
  san?: string;
  keyType?: string;
  /** The HTTP status line when a request got through. */
  statusLine?: string;
}

function handshake(port: number, opts: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      checkServerIdentity: () => undefined,
      ...opts,
    });
    let out: Handshake = { ok: false };
    let got = '';
    s.once('secureConnect', () => {
      const c = s.getPeerX509Certificate();
      out = {
        ok: true,
        ...(c?.subjectAltName ? { san: c.subjectAltName } : {}),
        keyType: c?.publicKey.asymmetricKeyType ?? '',
      };
      s.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.once('error', () => resolve(out.ok ? { ...out, ok: false } : out));
    s.once('close', () => {
      const line = got.split('\r\n')[0];
      resolve(line ? { ...out, statusLine: line } : out);
    });
  });
}

const ready = hasOpenssl();

beforeAll(async () => {
  if (!ready) return;
  pki = makePki();
  aEc = pki.leaf('', { dns: ['a.example'] });
  aRsa = pki.leaf('', { dns: ['a.example'], rsa: true });
  bEc = pki.leaf('', { dns: ['*.b.example'] });
  clientLeaf = pki.leaf(CLIENT_ID);
  otherLeaf = pki.leaf('', { dns: [CLIENT_ID.replace('spiffe://', '')] });
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          tlsListener('multi', {
            common_tls_context: { tls_certificates: [cert(aEc), cert(bEc), cert(aRsa)] },
          }),
          tlsListener('mtls', {
            require_client_certificate: true,
            common_tls_context: {
              tls_certificates: [cert(aEc)],
              validation_context: {
                trusted_ca: { inline_string: pki.ca },
                match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: CLIENT_ID } }],
              },
            },
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  for (const p of others) await p.stop();
  await sds?.close();
  pki?.cleanup();
});

describe.skipIf(!ready)('several certificates per context', () => {
  const port = (): number => proxy.listenerAddress('multi')?.port ?? 0;

  it('serves the certificate whose SAN matches the SNI (exact and wildcard)', async () => {
    expect((await handshake(port(), { servername: 'x.b.example' })).san).toBe('DNS:*.b.example');
    const a = await handshake(port(), { servername: 'a.example' });
    expect(a.san).toBe('DNS:a.example');
    expect(a.statusLine).toBe('HTTP/1.1 200 OK');
  });

  it('picks by key type among the certificates for that name', async () => {
    const rsaOnly = await handshake(port(), {
      servername: 'a.example',
      sigalgs: 'RSA-PSS+SHA256:rsa_pss_rsae_sha256:RSA+SHA256',
    });
    expect(rsaOnly).toMatchObject({ ok: true, keyType: 'rsa', san: 'DNS:a.example' });
    const ecOnly = await handshake(port(), { servername: 'a.example', sigalgs: 'ECDSA+SHA256' });
    expect(ecOnly).toMatchObject({ ok: true, keyType: 'ec', san: 'DNS:a.example' });
  });

  it('falls back to the first certificate for an unknown or absent name', async () => {
    const r = await handshake(port(), { servername: 'unknown.example', sigalgs: 'ECDSA+SHA256' });
    expect(r.san).toBe('DNS:a.example');
  });
});

describe.skipIf(!ready)('client certificates', () => {
  const port = (): number => proxy.listenerAddress('mtls')?.port ?? 0;

  it('accepts a client whose URI SAN matches', async () => {
    const r = await handshake(port(), {
      servername: 'a.example',
      cert: clientLeaf.cert,
      key: clientLeaf.key,
    });
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
  });

  it('refuses a client without a certificate (require_client_certificate)', async () => {
    const r = await handshake(port(), { servername: 'a.example' });
    expect(r.statusLine).toBeUndefined();
  });

  it('refuses a client whose SAN has the right text but the wrong type (DNS, not URI)', async () => {
    const r = await handshake(port(), { servername: 'a.example', cert: otherLeaf.cert, key: otherLeaf.key });
    expect(r.statusLine).toBeUndefined();
    const stats = await (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/stats`)).text();
    expect(stats).toMatch(/ssl\.fail_verify_san: [1-9]/);
  });
});

describe.skipIf(!ready)('SDS warming', () => {
  it('keeps a listener unbound until its SDS certificate arrives, then serves it', async () => {
    sds = await startTestAdsServer();
    const sdsSource = {
      api_config_source: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
      },
      resource_api_version: 'V3',
    };
    const warming = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            tlsListener('sds', {
              common_tls_context: {
                tls_certificate_sds_secret_configs: [{ name: 'server-cert', sds_config: sdsSource }],
              },
            }),
          ],
          clusters: [grpcCluster('sds-grpc', sds.port)],
        },
      },
      { logLevel: 'off' },
    );
    others.push(warming);
    // The proxy asked for the secret; the server has none yet.
    await sds.waitForRequest((r) => r.typeUrl === TypeUrl.Secret);
    expect(warming.isReady).toBe(false);
    expect(warming.listenerAddress('sds')).toBeUndefined();
    sds.set(TypeUrl.Secret, [
      {
        name: 'server-cert',
        tlsCertificate: {
          certificateChain: { inlineString: bEc.cert },
          privateKey: { inlineString: bEc.key },
        },
      },
    ]);
    await warming.waitReady();
    const port = warming.listenerAddress('sds')?.port ?? 0;
    const r = await handshake(port, { servername: 'x.b.example' });
    expect(r.san).toBe('DNS:*.b.example');
    expect(r.statusLine).toBe('HTTP/1.1 200 OK');
  });
});

describe.skipIf(!ready)('health checks over the cluster TLS', () => {
  it('checks through the UpstreamTlsContext: the right SAN is healthy, a wrong one is not', async () => {
    const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
    const leaf = pki.leaf(SERVER_ID);
    const https = await import('node:https');
    const upstream = https.createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upPort = (upstream.address() as { port: number }).port;
    const tlsCluster = (name: string, san: string, hc: Record<string, unknown>): Record<string, unknown> =>
      staticCluster(name, [upPort], {
        health_checks: [{ timeout: '1s', interval: '0.05s', no_traffic_interval: '0.05s', ...hc }],
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${TLS}UpstreamTlsContext`,
            common_tls_context: {
              validation_context: {
                trusted_ca: { inline_string: pki.ca },
                match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: san } }],
              },
            },
          },
        },
      });
    const p = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          clusters: [
            tlsCluster('http-good', SERVER_ID, { http_health_check: { path: '/healthz' } }),
            tlsCluster('http-wrong-san', 'spiffe://cluster.local/ns/x/sa/impostor', {
              http_health_check: { path: '/healthz' },
            }),
            tlsCluster('tcp-good', SERVER_ID, { tcp_health_check: {} }),
            tlsCluster('tcp-wrong-san', 'spiffe://cluster.local/ns/x/sa/impostor', { tcp_health_check: {} }),
          ],
        },
      },
      { logLevel: 'off' },
    );
    others.push(p);
    const flags = async (): Promise<string> =>
      (await fetch(`http://127.0.0.1:${p.adminAddress?.port}/clusters`)).text();
    const want = [
      `http-good::127.0.0.1:${upPort}::health_flags::healthy`,
      `http-wrong-san::127.0.0.1:${upPort}::health_flags::/failed_active_hc`,
      `tcp-good::127.0.0.1:${upPort}::health_flags::healthy`,
      `tcp-wrong-san::127.0.0.1:${upPort}::health_flags::/failed_active_hc`,
    ];
    // Wrong-SAN hosts start failed; wait until both good ones passed and the bad ones were tried.
    const good = async (): Promise<boolean> => {
      const t = await flags();
      return t.includes(want[0] ?? '') && t.includes(want[2] ?? '');
    };
    while (!(await good())) await new Promise((r) => setTimeout(r, 20));
    while (
      p.stats.value('cluster.http-wrong-san.health_check.failure') < 2 ||
      p.stats.value('cluster.tcp-wrong-san.health_check.failure') < 2
    )
      await new Promise((r) => setTimeout(r, 20));
    const text = await flags();
    for (const w of want) expect(text).toContain(w);
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });
});

// Mesh mTLS with real TLS handshakes on loopback: certificates from our CA delivered as SDS
// secrets, server and client options derived from the Envoy contexts the translation produces, and
// a listener that picks a filter-chain variant the way the TLS inspector does (first byte 0x16).
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptPeer,
  CertificateAuthority,
  createCsr,
  createRootCa,
  generateKeyPair,
  inboundChainVariants,
  istioMutualUpstreamTlsContext,
  meshSni,
  peerPrincipal,
  privateKeyToPem,
  tlsClientOptions,
  tlsServerOptions,
  type MtlsMode,
  type SecretJson,
} from '../src/index.js';

const ID_CLIENT = 'spiffe://cluster.local/ns/shop/sa/web';
const ID_SERVER = 'spiffe://cluster.local/ns/shop/sa/db';
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function secretsFor(
  ca: CertificateAuthority,
  id: string,
): Promise<(name: string) => SecretJson | undefined> {
  const keys = await generateKeyPair();
  const chain = (await ca.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id)).certChain;
  const key = await privateKeyToPem(keys.privateKey);
  const table: Record<string, SecretJson> = {
    default: {
      name: 'default',
      tlsCertificate: {
        certificateChain: { inlineBytes: b64(chain.slice(0, -1).join('')) },
        privateKey: { inlineBytes: b64(key) },
      },
    },
    ROOTCA: { name: 'ROOTCA', validationContext: { trustedCa: { inlineBytes: b64(chain.at(-1)!) } } },
  };
  return (n) => table[n];
}

/** A test inbound listener for one mode: TLS variant for TLS bytes, plaintext variant otherwise, else close. */
async function inboundListener(mode: MtlsMode, secrets: (n: string) => SecretJson | undefined) {
  const variants = inboundChainVariants(mode);
  const tlsVariant = variants.find((v) => v.transportSocket);
  const plainVariant = variants.find((v) => !v.transportSocket);
  const seen: string[] = [];
  const server = net.createServer((sock) => {
    sock.once('data', (first: Buffer) => {
      const isTls = first[0] === 0x16;
      if (isTls && tlsVariant) {
        // Replay the inspected bytes into the TLS layer, then the rest of the connection.
        const replay = new PassThrough();
        replay.write(first);
        sock.pipe(replay);
        const duplex = Duplex.from({ readable: replay, writable: sock });
        const ctx = tlsVariant.transportSocket!.typedConfig as Parameters<typeof tlsServerOptions>[0];
        const tlsServer = tls.createServer(tlsServerOptions(ctx, secrets), (t) => {
          if (acceptPeer(t, ctx)) return t.destroy();
          seen.push(`${tlsVariant.connectionSecurityPolicy} ${peerPrincipal(t.getPeerX509Certificate())}`);
          t.end('hello over mTLS');
        });
        tlsServer.on('tlsClientError', () => sock.destroy());
        tlsServer.emit('connection', duplex);
      } else if (!isTls && plainVariant) {
        seen.push('none');
        sock.end('hello in plaintext');
      } else {
        sock.destroy(); // no filter chain matches: the connection is refused
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, seen };
}

function plaintext(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\n\r\n'));
    let d = '';
    s.on('data', (b) => (d += b.toString()));
    s.on('close', () => resolve(d));
    s.on('error', () => resolve(d));
  });
}

function mtls(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ ...options, host: '127.0.0.1', port });
    let d = '';
    s.on('data', (b: Buffer) => (d += b.toString()));
    s.on('end', () => resolve(d));
    s.on('error', reject);
  });
}

describe('mesh mTLS', () => {
  let ca: CertificateAuthority;
  let client: (n: string) => SecretJson | undefined;
  let server: (n: string) => SecretJson | undefined;
  const servers: net.Server[] = [];

  beforeAll(async () => {
    ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    client = await secretsFor(ca, ID_CLIENT);
    server = await secretsFor(ca, ID_SERVER);
  });
  afterAll(() => servers.forEach((s) => s.close()));

  const upstream = (sans: string[]) =>
    istioMutualUpstreamTlsContext({
      sni: meshSni(5432, '', 'db.shop.svc.cluster.local'),
      subjectAltNames: sans,
    });

  it('STRICT: mutual TLS succeeds with the expected identities; plaintext is refused', async () => {
    const l = await inboundListener('STRICT', server);
    servers.push(l.server);
    expect(await mtls(l.port, tlsClientOptions(upstream([ID_SERVER]), client))).toBe('hello over mTLS');
    expect(l.seen).toEqual([`mutual_tls ${ID_CLIENT}`]);
    expect(await plaintext(l.port)).toBe('');
  });

  it('refuses a server whose identity is not the expected one', async () => {
    const l = await inboundListener('STRICT', server);
    servers.push(l.server);
    await expect(
      mtls(l.port, tlsClientOptions(upstream(['spiffe://cluster.local/ns/shop/sa/other']), client)),
    ).rejects.toThrow(/does not match the expected subject alt names/);
  });

  it('refuses a client without a mesh certificate, or with one from another mesh', async () => {
    const l = await inboundListener('STRICT', server);
    servers.push(l.server);
    const ctx = upstream([ID_SERVER]);
    delete ctx.commonTlsContext!.tlsCertificateSdsSecretConfigs;
    const noCert = tlsClientOptions(ctx, client);
    const r1 = await mtls(l.port, { ...noCert }).catch((e: Error) => e.message);
    expect(r1).not.toBe('hello over mTLS');
    const otherCa = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    const stranger = await secretsFor(otherCa, ID_CLIENT);
    const r2 = await mtls(
      l.port,
      tlsClientOptions(upstream([ID_SERVER]), (n) => (n === 'ROOTCA' ? client(n) : stranger(n))),
    ).catch((e: Error) => e.message);
    expect(r2).not.toBe('hello over mTLS');
    expect(l.seen).toEqual([]);
  });

  it('PERMISSIVE accepts both; DISABLE serves plaintext only', async () => {
    const p = await inboundListener('PERMISSIVE', server);
    const d = await inboundListener('DISABLE', server);
    servers.push(p.server, d.server);
    expect(await plaintext(p.port)).toBe('hello in plaintext');
    expect(await mtls(p.port, tlsClientOptions(upstream([ID_SERVER]), client))).toBe('hello over mTLS');
    expect(p.seen).toEqual(['none', `mutual_tls ${ID_CLIENT}`]);
    expect(await plaintext(d.port)).toBe('hello in plaintext');
  });
});

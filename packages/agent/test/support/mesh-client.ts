// A mesh client for the SDS interop tests: a workload certificate from the test's CA, one HTTP/1.1
// request over mutual TLS to the proxy's listener, and polling until the proxy answers as expected.
import type { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { createCsr, generateKeyPair, privateKeyToPem, type CertificateAuthority } from '@skein/ca';

export interface MeshCredentials {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

/** A key and a certificate for `id`, signed by `core`, trusting `core`'s root. */
export async function meshCredentials(core: CertificateAuthority, id: string): Promise<MeshCredentials> {
  const keys = await generateKeyPair();
  const chain = (await core.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id, 600)).certChain;
  return { key: await privateKeyToPem(keys.privateKey), cert: chain[0]!, ca: core.rootCertPem };
}

export interface MeshReply {
  readonly body: string;
  /** The serial number and URI SANs of the certificate the proxy presented. */
  readonly serial: string;
  readonly san: string;
}

/** `GET /` with `connection: close` over mutual TLS (ALPN http/1.1) to 127.0.0.1:`port`. */
export function meshGet(port: number, c: MeshCredentials): Promise<MeshReply> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port, ...c, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined },
      () => {
        const peer = s.getPeerX509Certificate() as X509Certificate;
        s.write('GET / HTTP/1.1\r\nhost: db\r\nconnection: close\r\n\r\n');
        let data = '';
        s.on('data', (d: Buffer) => (data += d.toString()));
        s.on('end', () =>
          resolve({
            body: data.split('\r\n\r\n')[1] ?? '',
            serial: peer.serialNumber,
            san: peer.subjectAltName ?? '',
          }),
        );
      },
    );
    s.on('error', reject);
  });
}

/**
 * `f()` until `ok` holds, every 100 ms for up to 15 s: the proxy fetches its secrets and binds
 * asynchronously after start, so the test polls its listener. `context()` goes into the failure.
 */
export async function eventually<T>(
  f: () => Promise<T>,
  ok: (t: T) => boolean,
  context: () => string,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 150; i++) {
    try {
      const v = await f();
      if (ok(v)) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `not reached: ${last instanceof Error ? String(last) : JSON.stringify(last)}\n${context()}`,
  );
}

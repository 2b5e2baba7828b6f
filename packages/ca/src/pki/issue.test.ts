// The CA core: roots, plug-in intermediates, workload CSRs, identity checks, TTLs, and the
// issued certificates in a real mutual TLS handshake on loopback.
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createIntermediateCa, createRootCa, pluginCa, verifyMaterial } from './ca-material.js';
import { createCsr } from './csr.js';
import { splitPem } from './pem.js';
import { CertificateAuthority, CertificateRequestError, certificateUris } from './issue.js';
import { generateKeyPair, importPrivateKeyPem, privateKeyToPem } from './keys.js';
import { x509 } from './x509.js';

const ID_A = 'spiffe://cluster.local/ns/default/sa/a';
const ID_B = 'spiffe://cluster.local/ns/other/sa/b';

async function workload(ca: CertificateAuthority, id: string, alg: 'ECDSA_P256' | 'RSA_2048' = 'ECDSA_P256') {
  const keys = await generateKeyPair(alg);
  const issued = await ca.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id);
  return { key: await privateKeyToPem(keys.privateKey), chain: issued.certChain, notAfter: issued.notAfter };
}

describe('CertificateAuthority', () => {
  it('issues a 24h workload certificate whose only URI SAN is the caller, chained to the root', async () => {
    const now = Date.UTC(2026, 0, 1);
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local', now }), {
      now: () => now,
    });
    const w = await workload(ca, ID_A);
    expect(w.chain).toHaveLength(2);
    const leaf = new X509Certificate(w.chain[0]!);
    const root = new X509Certificate(ca.rootCertPem);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(certificateUris(w.chain[0]!)).toEqual([ID_A]);
    expect(leaf.ca).toBe(false);
    expect(new Date(leaf.validTo).getTime()).toBe(now + 86400_000);
    expect(new Date(leaf.validFrom).getTime()).toBe(now - 60_000);
  });

  it('refuses a CSR for another identity with a clear error', async () => {
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    const keys = await generateKeyPair();
    const csr = await createCsr(keys, { uris: [ID_B] });
    await expect(ca.signWorkloadCsr(csr, ID_A)).rejects.toThrow(
      `CSR asks for identity ${ID_B} but the caller is authenticated as ${ID_A}`,
    );
  });

  it('refuses a TTL above the maximum and a CSR that is not one', async () => {
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }), {
      maxTtlSeconds: 3600,
    });
    const csr = await createCsr(await generateKeyPair(), { uris: [ID_A] });
    await expect(ca.signWorkloadCsr(csr, ID_A, 7200)).rejects.toThrow(
      /greater than the max allowed TTL 3600s/,
    );
    await expect(ca.signWorkloadCsr('garbage', ID_A)).rejects.toBeInstanceOf(CertificateRequestError);
    const ok = await ca.signWorkloadCsr(csr, ID_A, 30);
    const leaf = new X509Certificate(ok.certChain[0]!);
    expect(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime()).toBe(90_000);
  });

  it('signs with an RSA 2048 root and workload keys too', async () => {
    const ca = await CertificateAuthority.create(
      await createRootCa({ trustDomain: 'cluster.local', keyAlgorithm: 'RSA_2048' }),
    );
    const w = await workload(ca, ID_A, 'RSA_2048');
    expect(new X509Certificate(w.chain[0]!).verify(new X509Certificate(ca.rootCertPem).publicKey)).toBe(true);
    expect(new X509Certificate(w.chain[0]!).publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('works as a plug-in intermediate: leaf, intermediate, root', async () => {
    const root = await createRootCa({ trustDomain: 'cluster.local' });
    const rootCa = await CertificateAuthority.create(root);
    const interKeys = await generateKeyPair();
    // An intermediate is a CA certificate signed by the root; build it with the X.509 library.
    const rootCert = new x509.X509Certificate(root.rootCertPem);
    const rootKeys = await importPrivateKeyPem(root.caKeyPem);
    const inter = await x509.X509CertificateGenerator.create({
      serialNumber: '01',
      subject: 'O=cluster.local, CN=intermediate',
      issuer: rootCert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86400_000 * 30),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      publicKey: interKeys.publicKey,
      signingKey: rootKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      ],
    });
    const interPem = inter.toString('pem') + '\n';
    const material = await pluginCa({
      caCert: interPem,
      caKey: await privateKeyToPem(interKeys.privateKey),
      certChain: interPem + root.rootCertPem,
      rootCert: root.rootCertPem,
    });
    verifyMaterial(material);
    const ca = await CertificateAuthority.create(material);
    const w = await workload(ca, ID_A);
    expect(w.chain).toHaveLength(3);
    expect(new X509Certificate(w.chain[0]!).verify(new X509Certificate(interPem).publicKey)).toBe(true);
    expect(w.chain[2]).toBe(rootCa.rootCertPem);
    await expect(
      pluginCa({ caCert: interPem, caKey: root.caKeyPem, rootCert: root.rootCertPem }),
    ).rejects.toThrow(/does not match/);
  });

  it('takes a plug-in root-cert.pem with two roots: the chain picks the signing one, both are trusted', async () => {
    // Two roots with the same subject (the default CN): only signatures tell them apart.
    const td = { trustDomain: 'cluster.local' };
    const [rootA, rootB, rootC] = [await createRootCa(td), await createRootCa(td), await createRootCa(td)];
    const interA = await createIntermediateCa(rootA, { ...td, commonName: 'cluster-1 A' });
    const interB = await createIntermediateCa(rootB, { ...td, commonName: 'cluster-1 B' });
    const files = (inter: typeof interA, roots: string) => ({
      caCert: inter.caCertPem,
      caKey: inter.caKeyPem,
      certChain: inter.chainPems.join('') + inter.rootCertPem,
      rootCert: roots,
    });
    const both = rootA.rootCertPem + rootB.rootCertPem;
    // Step 1 of a plug-in rotation: the old intermediate, both roots.
    const m1 = await pluginCa(files(interA, both));
    expect([m1.rootCertPem, m1.otherRootPems]).toEqual([rootA.rootCertPem, [rootB.rootCertPem]]);
    const ca = await CertificateAuthority.create(m1);
    expect(ca.trustedRoots).toEqual([rootA.rootCertPem, rootB.rootCertPem]);
    const before = await workload(ca, ID_A);
    // Step 2: the new intermediate under root B, both roots still trusted (B first: it signs).
    await ca.update(await pluginCa(files(interB, both)));
    expect(ca.trustedRoots).toEqual([rootB.rootCertPem, rootA.rootCertPem]);
    const after = await workload(ca, ID_B);
    const leaf = (w: { chain: string[] }) => new X509Certificate(w.chain[0]!);
    expect(leaf(after).verify(new X509Certificate(interB.caCertPem).publicKey)).toBe(true);
    // The last element of an issued chain is the bundle: old and new certificates both verify.
    expect(splitPem(after.chain.at(-1)!)).toEqual([rootB.rootCertPem, rootA.rootCertPem]);
    expect(leaf(before).verify(new X509Certificate(interA.caCertPem).publicKey)).toBe(true);
    // Step 3: the old root leaves.
    await ca.update(await pluginCa(files(interB, rootB.rootCertPem)));
    expect(ca.trustedRoots).toEqual([rootB.rootCertPem]);
    // A chain that leads to none of the roots is refused with the reason.
    const interC = await createIntermediateCa(rootC, { ...td, commonName: 'stray' });
    await expect(pluginCa(files(interC, both))).rejects.toThrow(
      /the CA certificate's chain leads to none of the 2 root\(s\) in root-cert.pem/,
    );
  });

  it('completes a mutual TLS handshake on loopback and refuses an identity mismatch', async () => {
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    const other = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    const server = await workload(ca, ID_B);
    const client = await workload(ca, ID_A);
    const stranger = await workload(other, ID_A);
    const srv = tls.createServer({
      key: server.key,
      cert: server.chain.slice(0, -1).join(''),
      ca: ca.rootCertPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peers: string[] = [];
    srv.on('secureConnection', (s) => {
      peers.push(s.getPeerX509Certificate()?.subjectAltName ?? '');
      s.end('ok');
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    const connect = (c: { key: string; chain: string[] }, expected: string) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port,
          key: c.key,
          cert: c.chain.slice(0, -1).join(''),
          ca: ca.rootCertPem,
          checkServerIdentity: (_h, cert) =>
            cert.subjectaltname?.split(', ').includes(`URI:${expected}`)
              ? undefined
              : new Error(`server identity ${cert.subjectaltname} is not ${expected}`),
        });
        let data = '';
        s.on('data', (d: Buffer) => (data += d.toString()));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
    try {
      expect(await connect(client, ID_B)).toBe('ok');
      expect(peers).toEqual([`URI:${ID_A}`]);
      await expect(connect(client, 'spiffe://cluster.local/ns/x/sa/y')).rejects.toThrow(/is not spiffe/);
      // A client whose chain leads to another root is refused by the server (TLS 1.3 reports it
      // after the client's handshake, as an alert or a close without data).
      const strangerResult = await connect(stranger, ID_B).catch((e: Error) => e.message);
      expect(strangerResult).not.toBe('ok');
      expect(peers).toHaveLength(1);
    } finally {
      srv.close();
    }
  });
});

// Authenticators without a network: tokens file parsing and mesh-certificate checks.
import { describe, expect, it } from 'vitest';
import { createRootCa } from '../pki/ca-material.js';
import { createCsr } from '../pki/csr.js';
import { CertificateAuthority } from '../pki/issue.js';
import { generateKeyPair } from '../pki/keys.js';
import { X509Certificate } from 'node:crypto';
import { authenticate, BootstrapTokenAuthenticator, MeshCertificateAuthenticator } from './authenticator.js';

describe('authenticators', () => {
  it('maps bootstrap tokens to identities and rejects malformed files', async () => {
    const a = BootstrapTokenAuthenticator.parse(
      't1 ns1 sa1\n# comment\n\nt2 ns2 sa2 # trailing\n',
      'example.org',
    );
    expect(await a.authenticate({ metadata: { authorization: 'Bearer t2' } })).toEqual({
      identity: 'spiffe://example.org/ns/ns2/sa/sa2',
      method: 'bootstrap-token',
    });
    expect(await a.authenticate({ metadata: { authorization: 'Bearer nope' } })).toBeUndefined();
    expect(() => BootstrapTokenAuthenticator.parse('t1 ns1\n', 'x')).toThrow(/line 1/);
  });

  it('accepts a mesh certificate of this CA and refuses another CA, expiry and other trust domains', async () => {
    const now = Date.UTC(2026, 5, 1);
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local', now }), {
      now: () => now,
    });
    const other = await CertificateAuthority.create(
      await createRootCa({ trustDomain: 'cluster.local', now }),
      {
        now: () => now,
      },
    );
    const csr = await createCsr(await generateKeyPair(), {});
    const id = 'spiffe://cluster.local/ns/a/sa/b';
    const der = (pem: string) => new X509Certificate(pem).raw;
    const good = der((await ca.signWorkloadCsr(csr, id, 3600)).certChain[0]!);
    const foreign = der((await other.signWorkloadCsr(csr, id, 3600)).certChain[0]!);
    const otherTd = der((await ca.signWorkloadCsr(csr, 'spiffe://evil.org/ns/a/sa/b', 3600)).certChain[0]!);
    const auth = new MeshCertificateAuthenticator(ca.material.caCertPem, 'cluster.local', () => now + 1000);
    expect((await auth.authenticate({ metadata: {}, peerCertificateDer: good }))?.identity).toBe(id);
    await expect(auth.authenticate({ metadata: {}, peerCertificateDer: foreign })).rejects.toThrow(
      /not issued by this CA/,
    );
    await expect(auth.authenticate({ metadata: {}, peerCertificateDer: otherTd })).rejects.toThrow(
      /trust domain evil.org/,
    );
    const late = new MeshCertificateAuthenticator(
      ca.material.caCertPem,
      'cluster.local',
      () => now + 7200_000,
    );
    await expect(late.authenticate({ metadata: {}, peerCertificateDer: good })).rejects.toThrow(/expired/);
    await expect(authenticate([auth], { metadata: {}, peerCertificateDer: foreign })).rejects.toThrow(
      'authentication failed (mesh-certificate: client certificate is not issued by this CA)',
    );
  });
});

// skein-ca over real TLS gRPC on loopback: bootstrap-token and mesh-certificate callers, refused
// identities, missing credentials, and the directory store agreeing on one root.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BootstrapTokenAuthenticator,
  CertificateAuthority,
  MeshCertificateAuthenticator,
  createCsr,
  createRootCa,
  generateKeyPair,
  loadOrCreateDirectoryCa,
  privateKeyToPem,
  requestCertificate,
  startCa,
  type RunningCa,
} from '../src/index.js';

const TD = 'cluster.local';
const ID_A = `spiffe://${TD}/ns/default/sa/a`;

describe('skein-ca gRPC service', () => {
  let ca: CertificateAuthority;
  let running: RunningCa;
  let address: string;
  const logs: unknown[] = [];

  beforeAll(async () => {
    ca = await CertificateAuthority.create(await createRootCa({ trustDomain: TD }));
    running = await startCa({
      ca,
      host: '127.0.0.1',
      port: 0,
      authenticators: [
        BootstrapTokenAuthenticator.parse('# token ns sa\nsecret-a default a\n', TD),
        new MeshCertificateAuthenticator(ca.material.caCertPem, TD),
      ],
      log: (e) => logs.push(e),
    });
    address = `127.0.0.1:${running.port}`;
  });
  afterAll(() => running.close());

  async function csrFor(uri?: string) {
    const keys = await generateKeyPair();
    return {
      keyPem: await privateKeyToPem(keys.privateKey),
      csr: await createCsr(keys, uri ? { uris: [uri] } : {}),
    };
  }

  it('issues a certificate to a bootstrap-token caller for its own identity', async () => {
    const { csr } = await csrFor(ID_A);
    const chain = await requestCertificate(
      { address, rootCertPem: running.rootCertPem, token: () => 'secret-a' },
      csr,
      3600,
    );
    expect(chain).toHaveLength(2);
    const leaf = new X509Certificate(chain[0]!);
    expect(leaf.subjectAltName).toBe(`URI:${ID_A}`);
    expect(leaf.verify(new X509Certificate(running.rootCertPem).publicKey)).toBe(true);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(3600_000 + 60_000);
  });

  it('gives a CSR without SANs the caller identity', async () => {
    const { csr } = await csrFor();
    const chain = await requestCertificate(
      { address, rootCertPem: running.rootCertPem, token: () => 'secret-a' },
      csr,
      60,
    );
    expect(new X509Certificate(chain[0]!).subjectAltName).toBe(`URI:${ID_A}`);
  });

  it('refuses a CSR for another identity with PERMISSION_DENIED and a clear message', async () => {
    const { csr } = await csrFor(`spiffe://${TD}/ns/kube-system/sa/admin`);
    await expect(
      requestCertificate({ address, rootCertPem: running.rootCertPem, token: () => 'secret-a' }, csr, 60),
    ).rejects.toThrow(
      /7 PERMISSION_DENIED: CSR asks for identity spiffe:\/\/cluster.local\/ns\/kube-system\/sa\/admin but the caller is authenticated as spiffe:\/\/cluster.local\/ns\/default\/sa\/a/,
    );
  });

  it('refuses callers without credentials or with an unknown token', async () => {
    const { csr } = await csrFor(ID_A);
    await expect(requestCertificate({ address, rootCertPem: running.rootCertPem }, csr, 60)).rejects.toThrow(
      /16 UNAUTHENTICATED: no credentials/,
    );
    await expect(
      requestCertificate({ address, rootCertPem: running.rootCertPem, token: () => 'wrong' }, csr, 60),
    ).rejects.toThrow(/UNAUTHENTICATED/);
  });

  it('renews with the current mesh certificate, and refuses one from another CA', async () => {
    const first = await csrFor(ID_A);
    const chain = await requestCertificate(
      { address, rootCertPem: running.rootCertPem, token: () => 'secret-a' },
      first.csr,
      600,
    );
    const renewal = await csrFor(ID_A);
    const renewed = await requestCertificate(
      {
        address,
        rootCertPem: running.rootCertPem,
        clientCertificate: () => ({ keyPem: first.keyPem, certChainPem: chain.slice(0, -1).join('') }),
      },
      renewal.csr,
      600,
    );
    expect(new X509Certificate(renewed[0]!).subjectAltName).toBe(`URI:${ID_A}`);

    const other = await CertificateAuthority.create(await createRootCa({ trustDomain: TD }));
    const forged = await other.signWorkloadCsr(renewal.csr, ID_A);
    await expect(
      requestCertificate(
        {
          address,
          rootCertPem: running.rootCertPem,
          clientCertificate: () => ({ keyPem: renewal.keyPem, certChainPem: forged.certChain[0]! }),
        },
        renewal.csr,
        600,
      ),
    ).rejects.toThrow(/16 UNAUTHENTICATED/);
  });
});

describe('directory store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the root once; concurrent and later starters get the same root', async () => {
    const caDir = join(dir, 'ca');
    const results = await Promise.all(
      [1, 2, 3].map(() => loadOrCreateDirectoryCa(caDir, { trustDomain: TD })),
    );
    const roots = new Set(results.map((r) => r.material.rootCertPem));
    expect(roots.size).toBe(1);
    expect(results.filter((r) => r.source === 'self-signed (created)')).toHaveLength(1);
    const again = await loadOrCreateDirectoryCa(caDir, { trustDomain: TD });
    expect(again.source).toBe('self-signed (existing)');
    expect(again.material.rootCertPem).toBe(results[0]!.material.rootCertPem);
  });
});

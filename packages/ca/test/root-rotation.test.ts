// Root CA rotation with overlap, with real TLS on loopback. The CA runs on its directory (self-signed
// root A); two workloads get certificates over the CSR service (first with a bootstrap token, then
// renewing with their mesh certificate) and call each other continuously over mutual TLS, each
// trusting the bundle its last certificate came with. The rotation steps (`rotateRoot`: prepare,
// switch, finish) are picked up by the running CA; the workloads re-certify one at a time. Not one
// call fails across the switch — while a workload that never took the bundle with the new root
// (a negative control) cannot reach a workload re-certified under it.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  MeshCertificateAuthenticator,
  TokensFileAuthenticator,
  createCsr,
  generateKeyPair,
  loadDirectoryCaState,
  privateKeyToPem,
  requestCertificate,
  rotateRoot,
  splitPem,
  startCa,
  watchDirectoryCa,
  type DirectoryCaWatch,
  type RunningCa,
} from '../src/index.js';

const TD = 'cluster.local';
const idOf = (name: string) => `spiffe://${TD}/ns/shop/sa/${name}`;

/** A workload: its mesh certificate and trust bundle, a TLS server, and a client for its peers. */
class Workload {
  key = '';
  chain = '';
  bundle: string;
  certificates = 0;
  readonly server: tls.Server;
  constructor(
    readonly name: string,
    private readonly ca: () => RunningCa,
    initialRoot: string,
  ) {
    this.bundle = initialRoot;
    this.server = tls.createServer({ requestCert: true, rejectUnauthorized: true }, (s) => {
      s.on('error', () => undefined);
      s.end(this.name);
    });
    this.server.on('tlsClientError', () => undefined);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Whether the current leaf is signed by this root. */
  signedBy(rootPem: string): boolean {
    return new X509Certificate(this.chain).verify(new X509Certificate(rootPem).publicKey);
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
  }

  /** Asks the CA for a new certificate: a bootstrap token the first time, the mesh certificate after. */
  async certify(): Promise<void> {
    const keys = await generateKeyPair();
    const first = this.certificates === 0;
    const chain = await requestCertificate(
      {
        address: `127.0.0.1:${this.ca().port}`,
        rootCertPem: this.bundle,
        serverName: 'localhost',
        ...(first ? { token: () => `tok-${this.name}` } : {}),
        clientCertificate: () => (first ? undefined : { keyPem: this.key, certChainPem: this.chain }),
      },
      await createCsr(keys, { uris: [idOf(this.name)] }),
      3600,
    );
    this.key = await privateKeyToPem(keys.privateKey);
    this.chain = chain.slice(0, -1).join('');
    this.bundle = chain.at(-1)!;
    this.certificates++;
    this.server.setSecureContext({ key: this.key, cert: this.chain, ca: this.bundle });
  }

  /** One call to a peer over a new mutual TLS connection: resolves with the peer's answer. */
  call(peer: Workload): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: peer.port,
        key: this.key,
        cert: this.chain,
        ca: this.bundle,
        // The mesh identity check (SPIFFE URI SAN), not a hostname check.
        checkServerIdentity: (_h, cert) =>
          cert.subjectaltname?.includes(`URI:${idOf(peer.name)}`)
            ? undefined
            : new Error(`server is not ${idOf(peer.name)}`),
      });
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
  }
}

/** Calls in both directions, continuously, counting successes and collecting failures. */
class Traffic {
  calls = 0;
  readonly failures: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];
  constructor(pairs: [Workload, Workload][]) {
    this.loops = pairs.map(async ([from, to]) => {
      while (this.running) {
        try {
          const answer = await from.call(to);
          if (answer !== to.name) throw new Error(`answer ${JSON.stringify(answer)}`);
          this.calls++;
        } catch (e) {
          this.failures.push(`${from.name} → ${to.name}: ${(e as Error).message}`);
        }
      }
    });
  }
  /** Resolves once `n` more calls have succeeded (the calls themselves are the clock). */
  async more(n: number): Promise<void> {
    const target = this.calls + n;
    while (this.calls < target && this.failures.length === 0) await new Promise((r) => setImmediate(r));
  }
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('root CA rotation with overlap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-ca-rotation-'));
  let ca: CertificateAuthority;
  let running: RunningCa;
  let watch: DirectoryCaWatch;
  let a: Workload;
  let b: Workload;
  let stale: Workload;

  beforeAll(async () => {
    const state = await loadDirectoryCaState(dir, { trustDomain: TD });
    ca = await CertificateAuthority.create(state.loaded.material, {}, state.extraRoots);
    // Reloads are driven by the test (reload()), not by the timer.
    watch = watchDirectoryCa(dir, ca, { root: { trustDomain: TD }, intervalMs: 3_600_000 });
    writeFileSync(join(dir, 'tokens'), ['a', 'b', 'stale'].map((n) => `tok-${n} shop ${n}\n`).join(''));
    running = await startCa({
      ca,
      host: '127.0.0.1',
      port: 0,
      authenticators: [
        await new TokensFileAuthenticator(join(dir, 'tokens'), TD).load(),
        new MeshCertificateAuthenticator(() => [ca.material.caCertPem, ...ca.trustedRoots], TD),
      ],
    });
    const rootA = readFileSync(join(dir, 'self-signed', 'root-cert.pem'), 'utf8');
    a = new Workload('a', () => running, rootA);
    b = new Workload('b', () => running, rootA);
    stale = new Workload('stale', () => running, rootA);
    for (const w of [a, b, stale]) {
      await w.listen();
      await w.certify();
    }
  });

  afterAll(async () => {
    watch?.stop();
    for (const w of [a, b, stale]) await new Promise((r) => w?.server.close(r));
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every call between the workloads working through prepare, switch and finish', async () => {
    const rootA = readFileSync(join(dir, 'self-signed', 'root-cert.pem'), 'utf8');
    expect(a.signedBy(rootA)).toBe(true);
    const traffic = new Traffic([
      [a, b],
      [b, a],
    ]);
    try {
      await traffic.more(10);

      // prepare: the new root is trusted everywhere before anything is signed by it.
      await rotateRoot(dir, 'prepare', { trustDomain: TD });
      expect(await watch.reload()).toBe(true);
      expect(splitPem(running.rootCertPem)).toHaveLength(2);
      for (const w of [a, b]) await w.certify();
      expect(splitPem(a.bundle)).toHaveLength(2);
      expect(a.signedBy(rootA)).toBe(true); // still signed by the old root
      await traffic.more(10);

      // switch: the new root signs; one workload re-certified under it, the other not yet.
      await rotateRoot(dir, 'switch', { trustDomain: TD });
      expect(await watch.reload()).toBe(true);
      const rootB = readFileSync(join(dir, 'self-signed', 'root-cert.pem'), 'utf8');
      expect(rootB).not.toBe(rootA);
      await a.certify();
      expect(a.signedBy(rootB)).toBe(true);
      expect(b.signedBy(rootA)).toBe(true);
      await traffic.more(20);

      // A workload that never took the new bundle cannot reach the re-certified one.
      await expect(stale.call(a)).rejects.toThrow();

      await b.certify(); // renewing with its old-root certificate still authenticates
      expect(b.signedBy(rootB)).toBe(true);
      await traffic.more(10);

      // finish: the old root leaves the bundle.
      await rotateRoot(dir, 'finish', { trustDomain: TD });
      expect(await watch.reload()).toBe(true);
      expect(splitPem(running.rootCertPem)).toHaveLength(1);
      for (const w of [a, b]) await w.certify();
      expect(splitPem(a.bundle)).toHaveLength(1);
      expect(new X509Certificate(a.bundle).fingerprint256).toBe(new X509Certificate(rootB).fingerprint256);
      await traffic.more(10);
    } finally {
      await traffic.stop();
    }
    expect(traffic.failures).toEqual([]);
    expect(traffic.calls).toBeGreaterThanOrEqual(60);
  }, 60_000);

  it('refuses steps out of order', async () => {
    await expect(rotateRoot(dir, 'finish', { trustDomain: TD })).rejects.toThrow(/no previous root/);
    await expect(rotateRoot(dir, 'switch', { trustDomain: TD })).rejects.toThrow(/no prepared root/);
  });
});

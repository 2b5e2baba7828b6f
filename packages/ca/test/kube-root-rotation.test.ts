// istiod's self-signed root rotation in Kubernetes mode, against a real kube-apiserver + etcd: a
// root inside its grace period is renewed with its own key, istio-ca-secret carries the new root
// and the old one, the CA swaps its material and republishes istio-ca-root-cert, certificates
// issued before still verify (in real TLS handshakes) and new ones chain to the new root; two
// replicas, an edit racing the rotation and a broken Secret lose nothing.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  checkSelfSignedRoot,
  createCsr,
  generateKeyPair,
  privateKeyToPem,
  publishRootCert,
  splitPem,
  startSelfSignedRootRotator,
  watchKubeCa,
  createRootCa,
  type KubeApi,
} from '../src/index.js';
import type { KubeClient } from '../src/kube/kube-client.js';
import { loadOrCreateKubeCa } from '../src/kube/kube-ca.js';
import { apiServerUnavailable, startApiServer, type ApiServer } from '../src/testing/index.js';
import { adminClient, createNamespace } from './support/kube.js';

const missing = apiServerUnavailable();
const td = 'cluster.local';
const ID = 'spiffe://cluster.local/ns/demo/sa/web';
type Secret = {
  metadata: Record<string, unknown> & { resourceVersion: string };
  data: Record<string, string>;
};
const text = (s: Secret, k: string) => Buffer.from(s.data[k] ?? '', 'base64').toString();

const skeinCa = fileURLToPath(new URL('../../../bin/skein-ca', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'skein-ca-rot-'));
const run = (cmd: string, args: string[]): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile(cmd, args, (err, stdout, stderr) =>
      err ? reject(new Error(stderr || err.message)) : resolve(stdout),
    ),
  );

describe.skipIf(missing !== '')(
  `self-signed root rotation in Kubernetes mode${missing ? ` (${missing})` : ''}`,
  () => {
    let api: ApiServer;
    let kube: KubeClient;
    beforeAll(async () => {
      api = await startApiServer();
      kube = adminClient(api);
    }, 150_000);
    afterAll(async () => {
      await api?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    /** A namespace whose istio-ca-secret holds a root valid from 51 min ago for 10 more minutes (inside the 20 % grace). */
    const dueRoot = async (ns: string) => {
      expect(await createNamespace(kube, ns)).toBe(201);
      return loadOrCreateKubeCa(kube, ns, {
        trustDomain: td,
        ttlSeconds: 3600,
        now: Date.now() - 50 * 60_000,
      });
    };
    const secret = async (ns: string) =>
      (await kube.call<Secret>('GET', `/api/v1/namespaces/${ns}/secrets/istio-ca-secret`)).body;
    const leaf = async (ca: CertificateAuthority, ttl: number) => {
      const keys = await generateKeyPair();
      const chain = (await ca.signWorkloadCsr(await createCsr(keys, { uris: [ID] }), ID, ttl)).certChain;
      return { chain, key: await privateKeyToPem(keys.privateKey) };
    };
    /** A real TLS handshake: a server presenting `cert`, a client trusting only `ca`. */
    const handshake = async (cert: { chain: string[]; key: string }, ca: string): Promise<string> => {
      const server = tls.createServer({ cert: cert.chain[0], key: cert.key }, (s) => s.end('ok'));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const c = tls.connect({
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          ca,
          checkServerIdentity: () => undefined,
        });
        // `once` rejects on 'error', so the outcome is read from either event by hand.
        const err = await new Promise<Error | undefined>((resolve) => {
          c.once('secureConnect', () => resolve(undefined));
          c.once('error', (e) => resolve(e));
        });
        c.destroy();
        return err ? err.message : 'verified';
      } finally {
        server.close();
      }
    };

    it('renews a root inside its grace period with the same key; old certificates keep verifying', async () => {
      const ns = 'rot';
      const start = await dueRoot(ns);
      const ca = await CertificateAuthority.create(start.material);
      const published: string[] = [];
      const watch = watchKubeCa(kube, ns, ca, {
        root: { trustDomain: td },
        startedFrom: start.source,
        intervalMs: 3_600_000,
      });
      ca.onChange(
        () => void publishRootCert(kube, ca.rootCertPem, [ns]).then(() => published.push(ca.rootCertPem)),
      );
      await publishRootCert(kube, ca.rootCertPem, [ns]);
      // Something else keeps data and labels in the Secret: the rotation must keep them.
      const before = await secret(ns);
      expect(
        (
          await kube.call('PUT', `/api/v1/namespaces/${ns}/secrets/istio-ca-secret`, {
            ...before,
            metadata: { ...before.metadata, labels: { owner: 'ops' } },
            data: { ...before.data, 'note.txt': Buffer.from('keep me').toString('base64') },
          })
        ).status,
      ).toBe(200);
      const oldRoot = start.material.caCertPem;
      const issuedBefore = await leaf(ca, 300);
      const logs: string[] = [];
      const rotator = startSelfSignedRootRotator(kube, ns, {
        intervalMs: 3_600_000,
        reload: () => watch.reload(),
        log: (m) => logs.push(m),
      });
      try {
        const r = await rotator.check();
        expect(r.action).toBe('rotated');
        // The CA took the Secret: a new signing root with the old key and subject, both roots trusted.
        const newRoot = ca.material.caCertPem;
        expect(newRoot).not.toBe(oldRoot);
        expect(ca.material.caKeyPem).toBe(start.material.caKeyPem);
        const [n, o] = [new X509Certificate(newRoot), new X509Certificate(oldRoot)];
        expect(n.subject).toBe(o.subject);
        expect(n.publicKey.export({ format: 'jwk' })).toEqual(o.publicKey.export({ format: 'jwk' }));
        expect(new Date(n.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86400_000);
        expect(ca.trustedRoots).toEqual([newRoot, oldRoot]);
        // The Secret: new root signing, bundle of both, key, other data and labels unchanged.
        const after = await secret(ns);
        expect(text(after, 'ca-cert.pem')).toBe(newRoot);
        expect(splitPem(text(after, 'root-cert.pem'))).toEqual([newRoot, oldRoot]);
        expect(after.data['ca-key.pem']).toBe(before.data['ca-key.pem']);
        expect(text(after, 'note.txt')).toBe('keep me');
        expect((after.metadata['labels'] as Record<string, string>)['owner']).toBe('ops');
        // istio-ca-root-cert republished with both roots.
        await expect.poll(() => published.length).toBeGreaterThan(0);
        const cm = await kube.call<{ data: Record<string, string> }>(
          'GET',
          `/api/v1/namespaces/${ns}/configmaps/istio-ca-root-cert`,
        );
        const bundle = cm.body.data['root-cert.pem']!;
        expect(splitPem(bundle)).toEqual([newRoot, oldRoot]);
        // Issued before: verifies against the published bundle, and against the new root alone.
        expect(await handshake(issuedBefore, bundle)).toBe('verified');
        expect(await handshake(issuedBefore, newRoot)).toBe('verified');
        // Issued after: signed under the new root (it outlives the old one, which expires in 10 min).
        const issuedAfter = await leaf(ca, 3600);
        expect(issuedAfter.chain.at(-1)).toBe(bundle);
        expect(new Date(new X509Certificate(issuedAfter.chain[0]!).validTo).getTime()).toBeGreaterThan(
          new Date(o.validTo).getTime(),
        );
        expect(new X509Certificate(issuedAfter.chain[0]!).checkIssued(n)).toBe(true);
        expect(await handshake(issuedAfter, newRoot)).toBe('verified');
        // A certificate from an unrelated root does not pass for a mesh one.
        const stranger = await CertificateAuthority.create(await createRootCa({ trustDomain: td }));
        expect(await handshake(await leaf(stranger, 300), bundle)).toMatch(
          /unable to verify the first certificate/,
        );
        // The next check: nothing due, nothing written.
        const rv = (await secret(ns)).metadata.resourceVersion;
        expect((await rotator.check()).action).toBe('not-due');
        expect((await secret(ns)).metadata.resourceVersion).toBe(rv);
        // Once the old root has expired (a clock 11 minutes on), it leaves the bundle.
        const later = await checkSelfSignedRoot(kube, ns, { now: () => Date.now() + 11 * 60_000 });
        expect(later.action).toBe('pruned');
        expect(splitPem(text(await secret(ns), 'root-cert.pem'))).toEqual([newRoot]);
        expect(await watch.reload()).toBe(true);
        expect(ca.trustedRoots).toEqual([newRoot]);
        expect(logs).toContain(
          'self-signed root renewed with its key; the previous root stays trusted until it expires',
        );
      } finally {
        rotator.stop();
        watch.stop();
      }
    });

    it('two replicas and an edit racing the rotation: one new root, nothing lost', async () => {
      const ns = 'rot-race';
      await dueRoot(ns);
      // Replica B's PUT is preceded, between its read and its write, by replica A's whole rotation.
      let raced = false;
      const replicaB: KubeApi = {
        call: async (method, p, body) => {
          if (method === 'PUT' && !raced) {
            raced = true;
            expect((await checkSelfSignedRoot(kube, ns)).action).toBe('rotated');
          }
          return kube.call(method, p, body);
        },
      };
      const rAfterA = (await checkSelfSignedRoot(replicaB, ns)).action;
      expect(raced).toBe(true);
      // B's write was refused (409), it read again and found the root renewed: nothing more to do.
      expect(rAfterA).toBe('not-due');
      const s = await secret(ns);
      expect(splitPem(text(s, 'root-cert.pem'))).toHaveLength(2);
      expect(splitPem(text(s, 'root-cert.pem'))[0]).toBe(text(s, 'ca-cert.pem'));

      // An operator's edit lands between the rotator's read and write: the rotation retries on top of it.
      const ns2 = 'rot-edit';
      await dueRoot(ns2);
      let edited = false;
      const racing: KubeApi = {
        call: async (method, p, body) => {
          if (method === 'PUT' && !edited) {
            edited = true;
            const cur = await secret(ns2);
            await kube.call('PUT', `/api/v1/namespaces/${ns2}/secrets/istio-ca-secret`, {
              ...cur,
              data: { ...cur.data, 'operator.txt': Buffer.from('edited').toString('base64') },
            });
          }
          return kube.call(method, p, body);
        },
      };
      expect((await checkSelfSignedRoot(racing, ns2)).action).toBe('rotated');
      const s2 = await secret(ns2);
      expect(text(s2, 'operator.txt')).toBe('edited');
      expect(splitPem(text(s2, 'root-cert.pem'))).toHaveLength(2);
    });

    // The command needs `npm run build` (npm test builds first).
    it.skipIf(!built)(
      'rotate-root --mode kubernetes: prepare, switch, finish to a new key, followed live by the CA',
      async () => {
        const ns = 'rot-key';
        expect(await createNamespace(kube, ns)).toBe(201);
        const start = await loadOrCreateKubeCa(kube, ns, { trustDomain: td });
        const ca = await CertificateAuthority.create(start.material);
        const watch = watchKubeCa(kube, ns, ca, {
          root: { trustDomain: td },
          startedFrom: start.source,
          intervalMs: 3_600_000,
        });
        const kubeconfig = api.kubeconfigPath;
        const step = async (s: string) =>
          JSON.parse(
            await run(skeinCa, [
              'rotate-root',
              '--mode',
              'kubernetes',
              '--kubeconfig',
              kubeconfig,
              '--ca-namespace',
              ns,
              '--step',
              s,
            ]),
          ) as { result: string; secret: string };
        const oldRoot = start.material.caCertPem;
        const issuedOld = await leaf(ca, 600);
        try {
          await expect(step('finish')).rejects.toThrow(/no previous root to drop/);
          expect((await step('prepare')).secret).toBe(`${ns}/istio-ca-secret`);
          expect(await watch.reload()).toBe(true);
          const [signing, next] = ca.trustedRoots;
          expect(signing).toBe(oldRoot);
          expect(new X509Certificate(next!).subject).not.toBe(new X509Certificate(oldRoot).subject);
          // Still signing with the old key; the chain's bundle already carries the next root.
          const issuedPrepared = await leaf(ca, 600);
          expect(
            new X509Certificate(issuedPrepared.chain[0]!).checkIssued(new X509Certificate(oldRoot)),
          ).toBe(true);
          expect(splitPem(issuedPrepared.chain.at(-1)!)).toEqual([oldRoot, next]);
          await expect(step('prepare')).rejects.toThrow(/already prepared/);
          await step('switch');
          expect(await watch.reload()).toBe(true);
          expect(ca.trustedRoots).toEqual([next, oldRoot]);
          const issuedNew = await leaf(ca, 600);
          expect(await handshake(issuedNew, next!)).toBe('verified');
          expect(await handshake(issuedNew, oldRoot)).toMatch(/unable to verify/);
          // During the overlap both generations verify against the bundle workloads hold.
          expect(await handshake(issuedOld, ca.rootCertPem)).toBe('verified');
          expect(await handshake(issuedNew, ca.rootCertPem)).toBe('verified');
          await step('finish');
          expect(await watch.reload()).toBe(true);
          expect(ca.trustedRoots).toEqual([next]);
          expect(await handshake(issuedOld, ca.rootCertPem)).toMatch(/unable to verify/);
          const s = await secret(ns);
          expect(Object.keys(s.data).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'root-cert.pem']);
        } finally {
          watch.stop();
        }
      },
      60_000,
    );

    it('a broken Secret is never rewritten and the CA keeps signing with what it had', async () => {
      const ns = 'rot-broken';
      const start = await dueRoot(ns);
      const ca = await CertificateAuthority.create(start.material);
      const watch = watchKubeCa(kube, ns, ca, {
        root: { trustDomain: td },
        startedFrom: start.source,
        intervalMs: 3_600_000,
      });
      const other = await createRootCa({ trustDomain: td });
      const cur = await secret(ns);
      const path = `/api/v1/namespaces/${ns}/secrets/istio-ca-secret`;
      const broken = {
        ...cur,
        data: { ...cur.data, 'ca-key.pem': Buffer.from(other.caKeyPem).toString('base64') },
      };
      expect((await kube.call('PUT', path, broken)).status).toBe(200);
      const rv = (await secret(ns)).metadata.resourceVersion;
      await expect(checkSelfSignedRoot(kube, ns)).rejects.toThrow(/CA key does not match the CA certificate/);
      await expect(watch.reload()).rejects.toThrow(/CA key does not match/);
      const garbled = {
        ...(await secret(ns)),
        data: { ...cur.data, 'ca-cert.pem': Buffer.from('not a certificate').toString('base64') },
      };
      expect((await kube.call('PUT', path, garbled)).status).toBe(200);
      const rv2 = (await secret(ns)).metadata.resourceVersion;
      expect(rv2).not.toBe(rv);
      await expect(checkSelfSignedRoot(kube, ns)).rejects.toThrow(/expected one PEM block/);
      expect((await secret(ns)).metadata.resourceVersion).toBe(rv2);
      expect(text(await secret(ns), 'ca-cert.pem')).toBe('not a certificate');
      expect(ca.material.caCertPem).toBe(start.material.caCertPem);
      const l = await leaf(ca, 60);
      expect(
        new X509Certificate(l.chain[0]!).checkIssued(new X509Certificate(start.material.caCertPem)),
      ).toBe(true);
      watch.stop();
    });
  },
);

// Kubernetes mode against a real kube-apiserver + etcd: service-account tokens checked by
// TokenReview (audience included), the root Secret created once, the root published to namespaces.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  TokenReviewAuthenticator,
  createCsr,
  createIntermediateCa,
  createRootCa,
  splitPem,
  watchKubeCa,
  generateKeyPair,
  requestCertificate,
  startCa,
  type RunningCa,
} from '../src/index.js';
import type { KubeClient } from '../src/kube/kube-client.js';
import { kubeTokenReviewer, loadOrCreateKubeCa, publishRootCert } from '../src/kube/kube-ca.js';
import { apiServerUnavailable, startApiServer, type ApiServer } from '../src/testing/index.js';
import { adminClient, createNamespace } from './support/kube.js';

const missing = apiServerUnavailable();

// Skipped only where the cluster scripts have not built kube-apiserver and etcd (reason printed).
describe.skipIf(missing !== '')(`skein-ca in Kubernetes mode${missing ? ` (${missing})` : ''}`, () => {
  let api: ApiServer;
  let kube: KubeClient;
  let ca: RunningCa;
  let core: CertificateAuthority;

  const token = async (ns: string, sa: string, audiences: string[]) => {
    const r = await kube.call<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences, expirationSeconds: 3600 },
      },
    );
    expect(r.status).toBe(201);
    return r.body.status.token;
  };

  beforeAll(async () => {
    api = await startApiServer();
    kube = adminClient(api);
    for (const ns of ['skein-system', 'demo']) {
      expect(await createNamespace(kube, ns)).toBe(201);
    }
    await kube.call('POST', '/api/v1/namespaces/demo/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'web' },
    });
    const results = await Promise.all(
      [1, 2].map(() => loadOrCreateKubeCa(kube, 'skein-system', { trustDomain: 'cluster.local' })),
    );
    expect(new Set(results.map((r) => r.material.rootCertPem)).size).toBe(1);
    expect(results.filter((r) => r.source === 'self-signed (created)')).toHaveLength(1);
    core = await CertificateAuthority.create(results[0]!.material);
    ca = await startCa({
      ca: core,
      host: '127.0.0.1',
      port: 0,
      authenticators: [new TokenReviewAuthenticator(kubeTokenReviewer(kube), 'cluster.local', ['istio-ca'])],
    });
  }, 150_000);

  afterAll(async () => {
    await ca?.close();
    await api?.stop();
  }, 60_000);

  const csr = async (uri?: string) => createCsr(await generateKeyPair(), uri ? { uris: [uri] } : {});

  it('issues the service account identity to a token with the istio-ca audience', async () => {
    const t = await token('demo', 'web', ['istio-ca']);
    const chain = await requestCertificate(
      { address: `127.0.0.1:${ca.port}`, rootCertPem: ca.rootCertPem, token: () => t },
      await csr(),
      600,
    );
    expect(new X509Certificate(chain[0]!).subjectAltName).toBe('URI:spiffe://cluster.local/ns/demo/sa/web');
  });

  it('refuses a token for another audience and a CSR for another identity', async () => {
    const wrong = await token('demo', 'web', ['something-else']);
    await expect(
      requestCertificate(
        { address: `127.0.0.1:${ca.port}`, rootCertPem: ca.rootCertPem, token: () => wrong },
        await csr(),
        600,
      ),
    ).rejects.toThrow(/UNAUTHENTICATED: authentication failed \(kubernetes-token: token not authenticated/);
    const t = await token('demo', 'web', ['istio-ca']);
    await expect(
      requestCertificate(
        { address: `127.0.0.1:${ca.port}`, rootCertPem: ca.rootCertPem, token: () => t },
        await csr('spiffe://cluster.local/ns/kube-system/sa/admin'),
        600,
      ),
    ).rejects.toThrow(
      /PERMISSION_DENIED: CSR asks for identity spiffe:\/\/cluster.local\/ns\/kube-system\/sa\/admin/,
    );
  });

  it('keeps the root across restarts and publishes it to every namespace', async () => {
    const again = await loadOrCreateKubeCa(kube, 'skein-system', { trustDomain: 'cluster.local' });
    expect(again.source).toBe('self-signed (existing)');
    expect(again.material.rootCertPem).toBe(core.rootCertPem);
    expect(await publishRootCert(kube, core.rootCertPem)).toBeGreaterThanOrEqual(4);
    const cm = await kube.call<{ data: Record<string, string> }>(
      'GET',
      '/api/v1/namespaces/demo/configmaps/istio-ca-root-cert',
    );
    expect(cm.body.data['root-cert.pem']).toBe(core.rootCertPem);
    expect(await publishRootCert(kube, core.rootCertPem)).toBe(0);
  });

  it('follows a plug-in root rotation through the cacerts Secret, and keeps signing through a broken one', async () => {
    const ns = 'plug';
    expect(await createNamespace(kube, ns)).toBe(201);
    const td = { trustDomain: 'cluster.local' };
    const [rootA, rootB] = [await createRootCa(td), await createRootCa(td)];
    const interA = await createIntermediateCa(rootA, { ...td, commonName: 'cluster-1 A' });
    const interB = await createIntermediateCa(rootB, { ...td, commonName: 'cluster-1 B' });
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    let exists = false;
    const putCacerts = async (inter: typeof interA, roots: string, key = inter.caKeyPem) => {
      const body = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'cacerts', namespace: ns },
        data: {
          'ca-cert.pem': b64(inter.caCertPem),
          'ca-key.pem': b64(key),
          'cert-chain.pem': b64(inter.chainPems.join('') + inter.rootCertPem),
          'root-cert.pem': b64(roots),
        },
      };
      const path = `/api/v1/namespaces/${ns}/secrets`;
      const r = exists
        ? await kube.call('PUT', `${path}/cacerts`, body)
        : await kube.call('POST', path, body);
      expect(r.status).toBe(exists ? 200 : 201);
      exists = true;
    };
    const leafOf = async (ca: CertificateAuthority) => {
      const keys = await generateKeyPair();
      const id = 'spiffe://cluster.local/ns/demo/sa/web';
      return (await ca.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id)).certChain;
    };
    const issuedBy = (chain: string[], inter: typeof interA) =>
      new X509Certificate(chain[0]!).verify(new X509Certificate(inter.caCertPem).publicKey);

    await putCacerts(interA, rootA.rootCertPem);
    const loaded = await loadOrCreateKubeCa(kube, ns, td);
    expect(loaded.source).toBe('plugin');
    const plugged = await CertificateAuthority.create(loaded.material);
    const logs: string[] = [];
    const watch = watchKubeCa(kube, ns, plugged, {
      root: td,
      startedFrom: loaded.source,
      intervalMs: 3_600_000,
      log: (m) => logs.push(m),
    });
    try {
      expect(await watch.reload()).toBe(false);
      // 1. The new root joins root-cert.pem: trusted, the old intermediate still signs.
      await putCacerts(interA, rootA.rootCertPem + rootB.rootCertPem);
      expect(await watch.reload()).toBe(true);
      expect(plugged.trustedRoots).toEqual([rootA.rootCertPem, rootB.rootCertPem]);
      expect(issuedBy(await leafOf(plugged), interA)).toBe(true);
      // 2. The new intermediate signs; both roots stay trusted.
      await putCacerts(interB, rootA.rootCertPem + rootB.rootCertPem);
      expect(await watch.reload()).toBe(true);
      const chain = await leafOf(plugged);
      expect(issuedBy(chain, interB)).toBe(true);
      expect(splitPem(chain.at(-1)!)).toEqual([rootB.rootCertPem, rootA.rootCertPem]);
      // A broken Secret (the key of another CA) is refused with the reason; nothing changes.
      await putCacerts(interB, rootB.rootCertPem, interA.caKeyPem);
      await expect(watch.reload()).rejects.toThrow(/CA key does not match the CA certificate/);
      expect(plugged.trustedRoots).toHaveLength(2);
      expect(issuedBy(await leafOf(plugged), interB)).toBe(true);
      // A deleted cacerts does not silently fall back to another root.
      expect((await kube.call('DELETE', `/api/v1/namespaces/${ns}/secrets/cacerts`)).status).toBe(200);
      await expect(watch.reload()).rejects.toThrow(/secret plug\/cacerts is gone; still signing/);
      exists = false;
      // 3. The old root leaves.
      await putCacerts(interB, rootB.rootCertPem);
      expect(await watch.reload()).toBe(true);
      expect(plugged.trustedRoots).toEqual([rootB.rootCertPem]);
      expect(logs.filter((m) => m === 'CA reloaded from its Secret')).toHaveLength(3);
    } finally {
      watch.stop();
    }
  });
});

const caMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const skeinCa = fileURLToPath(new URL('../../../bin/skein-ca', import.meta.url));

// The binary needs `npm run build` (npm test builds first) and the API server binaries.
describe.skipIf(missing !== '' || !existsSync(caMain))(
  `bin/skein-ca --mode kubernetes${missing ? ` (${missing})` : !existsSync(caMain) ? ' (not built)' : ''}`,
  () => {
    let api: ApiServer;
    const dir = mkdtempSync(join(tmpdir(), 'skein-ca-cli-'));
    beforeAll(async () => {
      api = await startApiServer();
    }, 150_000);
    afterAll(async () => {
      await api?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('creates the root Secret, publishes the root and issues to a service-account token', async () => {
      const kube = adminClient(api);
      await createNamespace(kube, 'skein-system');
      await kube.call('POST', '/api/v1/namespaces/default/serviceaccounts', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'app' },
      });
      const kubeconfig = api.kubeconfigPath;
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const child = spawn(
        skeinCa,
        ['--mode', 'kubernetes', '--kubeconfig', kubeconfig, '--host', '127.0.0.1', '--port', String(port)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on('data', (d: Buffer) => d.toString().includes('"msg":"serving"') && resolve());
          child.once('exit', (code) => reject(new Error(`skein-ca exited ${code}`)));
        });
        const secret = await kube.call<{ data: Record<string, string> }>(
          'GET',
          '/api/v1/namespaces/skein-system/secrets/istio-ca-secret',
        );
        const rootPem = Buffer.from(secret.body.data['root-cert.pem']!, 'base64').toString();
        const cm = await kube.call<{ data: Record<string, string> }>(
          'GET',
          '/api/v1/namespaces/default/configmaps/istio-ca-root-cert',
        );
        expect(cm.body.data['root-cert.pem']).toBe(rootPem);
        const tr = await kube.call<{ status: { token: string } }>(
          'POST',
          '/api/v1/namespaces/default/serviceaccounts/app/token',
          {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { audiences: ['istio-ca'] },
          },
        );
        const chain = await requestCertificate(
          { address: `127.0.0.1:${port}`, rootCertPem: rootPem, token: () => tr.body.status.token },
          await createCsr(await generateKeyPair(), {}),
          600,
        );
        expect(new X509Certificate(chain[0]!).subjectAltName).toBe(
          'URI:spiffe://cluster.local/ns/default/sa/app',
        );
      } finally {
        child.kill('SIGTERM');
      }
    }, 60_000);
  },
);

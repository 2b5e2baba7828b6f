// bin/skeind embeds its CA by default: with no CA flag, directory mode keeps the root under
// $XDG_STATE_HOME/skein/ca and serves the CSR service on the TLS port; `--no-ca` turns it off.
// With a kubeconfig the CA is in Kubernetes mode (real kube-apiserver + etcd): the root lives in
// Secret skein-system/istio-ca-secret (created only if absent, kept across restarts), callers
// authenticate with service-account tokens via TokenReview (audience istio-ca) for CSRs and for
// ADS on the same TLS port, and istio-ca-root-cert is published to every namespace, including one
// created later. skeind runs as service account skein-system/skeind with exactly the RBAC of
// manifests/control-plane/skeind.yaml.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { discoveryV3, tlsSecretV3, TypeUrl } from '@skein/api-types';
import { createCsr, createRootCa, generateKeyPair, requestCertificate, splitPem } from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerUnavailable, startApiServer, type ApiServer } from '@skein/ca/testing';
import { openRawAdsStream } from './support/ads-client.js';

const apiServerMissing = apiServerUnavailable(undefined, { kubectl: true });

const root = fileURLToPath(new URL('../../../', import.meta.url));
const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
const notBuilt = existsSync(join(root, 'packages/control-plane/dist/main.js')) ? '' : ' (not built)';

interface Started {
  child: ChildProcess;
  /** The `CA started` log line, if any. */
  ca: Record<string, unknown> | undefined;
  lines: Record<string, unknown>[];
}

/** Runs bin/skeind until it logs `skeind started` (or exits). */
async function skeind(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(join(root, 'bin/skeind'), args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let text = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      const parts = text.split('\n');
      text = parts.pop()!;
      for (const l of parts) {
        try {
          const line = JSON.parse(l) as Record<string, unknown>;
          lines.push(line);
          if (line['msg'] === 'skeind started') resolve();
        } catch {
          lines.push({ text: l });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`skeind exited ${code}: ${JSON.stringify(lines)}`)));
  });
  return { child, lines, ca: lines.find((l) => l['msg'] === 'CA started') };
}

/** One CDS request on skeind's TLS ADS port with a bearer token: whether it was answered, else the status. */
async function adsOverTls(
  address: string,
  rootPem: string,
  token: string,
  serviceAccount: string,
): Promise<{ responded: boolean; code?: grpc.status }> {
  const { client, stream } = openRawAdsStream(
    address,
    grpc.credentials.createSsl(Buffer.from(rootPem)),
    token,
  );
  try {
    return await new Promise((resolve) => {
      stream.on('data', () => resolve({ responded: true }));
      stream.on('status', (s: grpc.StatusObject) => resolve({ responded: false, code: s.code }));
      stream.on('error', () => undefined);
      stream.write(
        toBinary(
          discoveryV3.DiscoveryRequestSchema,
          create(discoveryV3.DiscoveryRequestSchema, {
            typeUrl: TypeUrl.Cluster,
            node: {
              id: 'sidecar~10.0.0.5~web-0.demo~demo.svc.cluster.local',
              metadata: { NAMESPACE: 'demo', SERVICE_ACCOUNT: serviceAccount },
            },
          }),
        ),
      );
    });
  } finally {
    stream.cancel();
    client.close();
  }
}

/**
 * One SotW request for credentialName Secrets as a gateway (`router~` node) of demo/<serviceAccount>,
 * over the TLS port with a bearer token or over the plaintext port: the Secret names in the first
 * response.
 */
async function gatewaySecrets(
  address: string,
  credentials: grpc.ChannelCredentials,
  token: string | undefined,
  serviceAccount: string,
  names: string[],
): Promise<string[]> {
  const { client, stream } = openRawAdsStream(address, credentials, token);
  try {
    return await new Promise((resolve, reject) => {
      stream.on('data', (b: Buffer) => {
        const res = fromBinary(discoveryV3.DiscoveryResponseSchema, b);
        resolve(res.resources.map((r) => fromBinary(tlsSecretV3.SecretSchema, r.value).name).sort());
      });
      stream.on('status', (st: grpc.StatusObject) => reject(new Error(`stream ended: ${st.details}`)));
      stream.on('error', () => undefined);
      stream.write(
        toBinary(
          discoveryV3.DiscoveryRequestSchema,
          create(discoveryV3.DiscoveryRequestSchema, {
            typeUrl: TypeUrl.Secret,
            resourceNames: names,
            node: {
              id: 'router~10.0.0.9~gw-0.demo~demo.svc.cluster.local',
              metadata: { NAMESPACE: 'demo', SERVICE_ACCOUNT: serviceAccount },
            },
          }),
        ),
      );
    });
  } finally {
    stream.cancel();
    client.close();
  }
}

async function stop(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

const local = [
  '--xds-addr',
  '127.0.0.1:0',
  '--http-addr',
  '127.0.0.1:0',
  '--secure-addr',
  '127.0.0.1:0',
  '--webhook-addr',
  '127.0.0.1:0',
];

describe.skipIf(notBuilt !== '')(`bin/skeind embeds its CA by default${notBuilt}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeind-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('with no CA flag: directory mode under $XDG_STATE_HOME/skein/ca, CSR service on the TLS port', async () => {
    writeFileSync(join(dir, 'tokens'), 'tok-web demo web\n');
    const state = join(dir, 'state');
    const s = await skeind(
      ['--config-dir', join(dir, 'cfg'), ...local, '--ca-tokens-file', join(dir, 'tokens')],
      { XDG_STATE_HOME: state },
    );
    try {
      expect(s.ca).toMatchObject({ mode: 'directory', root: 'self-signed (created)' });
      const rootFile = join(state, 'skein', 'ca', 'self-signed', 'root-cert.pem');
      expect(s.ca!['rootCertFile']).toBe(rootFile);
      const rootPem = readFileSync(rootFile, 'utf8');
      const chain = await requestCertificate(
        { address: String(s.ca!['address']), rootCertPem: rootPem, token: () => 'tok-web' },
        await createCsr(await generateKeyPair(), {}),
        600,
      );
      expect(new X509Certificate(chain[0]!).subjectAltName).toBe('URI:spiffe://cluster.local/ns/demo/sa/web');
    } finally {
      await stop(s);
    }
    // Restarting keeps the root.
    const again = await skeind(['--config-dir', join(dir, 'cfg'), ...local], { XDG_STATE_HOME: state });
    await stop(again);
    expect(again.ca).toMatchObject({ root: 'self-signed (existing)' });
  }, 60_000);

  it('--no-ca runs no CA and writes no root', async () => {
    const state = join(dir, 'state-no-ca');
    const s = await skeind(['--config-dir', join(dir, 'cfg'), ...local, '--no-ca'], {
      XDG_STATE_HOME: state,
    });
    await stop(s);
    expect(s.ca).toBeUndefined();
    expect(existsSync(join(state, 'skein'))).toBe(false);
  }, 60_000);

  it('serves 15012 by default (the help says so)', async () => {
    const help = await new Promise<string>((resolve) => {
      const c = spawn(join(root, 'bin/skeind'), ['--help'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.once('exit', () => resolve(out));
    });
    expect(help.replace(/\s+/g, ' ')).toMatch(/--secure-addr <host:port> .*\(default: "0\.0\.0\.0:15012"\)/);
    expect(help).toContain('--no-ca');
  });
});

describe.skipIf(apiServerMissing !== '' || notBuilt !== '')(
  `bin/skeind's CA in Kubernetes mode${apiServerMissing ? ` (${apiServerMissing})` : notBuilt}`,
  () => {
    let api: ApiServer;
    let core: k8s.CoreV1Api;
    const dir = mkdtempSync(join(tmpdir(), 'skeind-ca-kube-'));
    // skeind runs as service account skein-system/skeind with exactly the documented RBAC.
    const kubeconfig = join(dir, 'skeind.kubeconfig');
    const args = (): string[] => ['--kubeconfig', kubeconfig, ...local, '--ca-root-resync', '1h'];
    const env = { XDG_STATE_HOME: join(dir, 'state') };

    beforeAll(async () => {
      api = await startApiServer();
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(api.kubeconfigPath);
      core = kc.makeApiClient(k8s.CoreV1Api);
      for (const name of ['skein-system', 'demo'])
        await core.createNamespace({ body: { metadata: { name } } });
      await core.createNamespacedServiceAccount({ namespace: 'demo', body: { metadata: { name: 'web' } } });
      // The RBAC documents of the installed manifest, nothing more (not its Deployment).
      const manifest = readFileSync(join(root, 'manifests/control-plane/skeind.yaml'), 'utf8');
      await api.apply(
        parseAllDocuments(manifest)
          .map((d) => d.toJS() as { kind?: string })
          .filter((o) => RBAC_KINDS.has(o.kind ?? '')),
      );
      const skeindToken = (
        await core.createNamespacedServiceAccountToken({
          name: 'skeind',
          namespace: 'skein-system',
          body: { spec: { expirationSeconds: 3600 } },
        })
      ).status!.token!;
      const cluster = kc.getCurrentCluster()!;
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: skeind',
          'contexts: [{ name: skeind, context: { cluster: c, user: skeind } }]',
          `clusters: [{ name: c, cluster: { server: "${cluster.server}", certificate-authority-data: "${cluster.caData}" } }]`,
          `users: [{ name: skeind, user: { token: "${skeindToken}" } }]`,
          '',
        ].join('\n'),
      );
    }, 150_000);

    afterAll(async () => {
      await api?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const token = async (audiences: string[]): Promise<string> =>
      (
        await core.createNamespacedServiceAccountToken({
          name: 'web',
          namespace: 'demo',
          body: { spec: { audiences, expirationSeconds: 3600 } },
        })
      ).status!.token!;
    const rootCm = async (ns: string): Promise<string | undefined> =>
      (
        await core
          .readNamespacedConfigMap({ name: 'istio-ca-root-cert', namespace: ns })
          .catch(() => undefined)
      )?.data?.['root-cert.pem'];

    it('keeps the root in the Secret, authenticates service-account tokens, publishes the root', async () => {
      const s = await skeind(args(), env);
      try {
        expect(s.ca).toMatchObject({
          mode: 'kubernetes',
          root: 'self-signed (created)',
          secret: 'skein-system/istio-ca-secret',
        });
        const secret = await core.readNamespacedSecret({
          name: 'istio-ca-secret',
          namespace: 'skein-system',
        });
        const rootPem = Buffer.from(secret.data!['root-cert.pem']!, 'base64').toString();
        for (const ns of ['default', 'kube-system', 'skein-system', 'demo'])
          expect(await rootCm(ns)).toBe(rootPem);

        const address = String(s.ca!['address']);
        const good = await token(['istio-ca']);
        const chain = await requestCertificate(
          { address, rootCertPem: rootPem, token: () => good },
          await createCsr(await generateKeyPair(), {}),
          600,
        );
        expect(new X509Certificate(chain[0]!).subjectAltName).toBe(
          'URI:spiffe://cluster.local/ns/demo/sa/web',
        );
        const wrong = await token(['another-audience']);
        await expect(
          requestCertificate(
            { address, rootCertPem: rootPem, token: () => wrong },
            await createCsr(await generateKeyPair(), {}),
            600,
          ),
        ).rejects.toThrow(/UNAUTHENTICATED/);
        await expect(
          requestCertificate(
            { address, rootCertPem: rootPem, token: () => good },
            await createCsr(await generateKeyPair(), { uris: ['spiffe://cluster.local/ns/demo/sa/admin'] }),
            600,
          ),
        ).rejects.toThrow(
          /PERMISSION_DENIED: CSR asks for identity spiffe:\/\/cluster.local\/ns\/demo\/sa\/admin/,
        );

        // ADS over the same TLS port with the service-account token: served for the node's own
        // identity, PERMISSION_DENIED for a node claiming another service account.
        expect(await adsOverTls(address, rootPem, good, 'web')).toMatchObject({ responded: true });
        expect(await adsOverTls(address, rootPem, good, 'admin')).toMatchObject({
          responded: false,
          code: grpc.status.PERMISSION_DENIED,
        });

        // A namespace created while skeind runs gets the root from the namespace watch (the
        // full resync is an hour away).
        await core.createNamespace({ body: { metadata: { name: 'later' } } });
        const deadline = Date.now() + 20_000;
        while ((await rootCm('later')) !== rootPem && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 200));
        expect(await rootCm('later')).toBe(rootPem);
      } finally {
        await stop(s);
      }
      // A restart reads the same root back.
      const again = await skeind(args(), env);
      await stop(again);
      expect(again.ca).toMatchObject({ mode: 'kubernetes', root: 'self-signed (existing)' });
    }, 90_000);

    it("renews a self-signed root inside its grace period (istiod's rotator) and republishes both roots", async () => {
      // A root valid from 51 minutes ago for 10 more: under 20 % of its lifetime left.
      const due = await createRootCa({
        trustDomain: 'cluster.local',
        ttlSeconds: 3600,
        now: Date.now() - 50 * 60_000,
      });
      const b64 = (t: string) => Buffer.from(t).toString('base64');
      await core.replaceNamespacedSecret({
        name: 'istio-ca-secret',
        namespace: 'skein-system',
        body: {
          metadata: { name: 'istio-ca-secret' },
          type: 'istio.io/ca-root',
          data: {
            'ca-cert.pem': b64(due.caCertPem),
            'ca-key.pem': b64(due.caKeyPem),
            'root-cert.pem': b64(due.caCertPem),
          },
        },
      });
      // istiod's variables: checked every second.
      const s = await skeind(args(), { ...env, CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL: '1s' });
      try {
        const deadline = Date.now() + 20_000;
        while (splitPem((await rootCm('demo')) ?? '').length !== 2 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 200));
        const [renewed, old] = splitPem((await rootCm('demo')) ?? '');
        expect(old).toBe(due.caCertPem);
        const n = new X509Certificate(renewed!);
        expect(n.subject).toBe(new X509Certificate(due.caCertPem).subject);
        const secret = await core.readNamespacedSecret({
          name: 'istio-ca-secret',
          namespace: 'skein-system',
        });
        expect(Buffer.from(secret.data!['ca-cert.pem']!, 'base64').toString()).toBe(renewed);
        expect(secret.data!['ca-key.pem']).toBe(b64(due.caKeyPem));
        expect(
          s.lines.some((l) => String(l['msg']).startsWith('self-signed root renewed with its key')),
        ).toBe(true);
        // skeind's serving certificate (issued under the old root at start) verifies with the new
        // root alone; the new certificate chains to it and outlives the old root.
        const chain = await requestCertificate(
          {
            address: String(s.ca!['address']),
            rootCertPem: renewed!,
            token: async () => token(['istio-ca']),
          },
          await createCsr(await generateKeyPair(), {}),
          7200,
        );
        const leaf = new X509Certificate(chain[0]!);
        expect(leaf.checkIssued(n) && leaf.verify(n.publicKey)).toBe(true);
        expect(Date.parse(leaf.validTo)).toBeGreaterThan(
          Date.parse(new X509Certificate(due.caCertPem).validTo),
        );
      } finally {
        await stop(s);
      }
    }, 90_000);

    it('serves credentialName Secrets only to verified gateways whose service account RBAC lets list them', async () => {
      const pem = (what: string): string => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
      await core.createNamespacedSecret({
        namespace: 'demo',
        body: {
          metadata: { name: 'gw-cred' },
          type: 'kubernetes.io/tls',
          stringData: { 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY') },
        },
      });
      const s = await skeind(args(), env);
      try {
        const address = String(s.ca!['address']);
        const rootPem = String(
          (await rootCm('demo')) ??
            Buffer.from(
              (await core.readNamespacedSecret({ name: 'istio-ca-secret', namespace: 'skein-system' })).data![
                'root-cert.pem'
              ]!,
              'base64',
            ).toString(),
        );
        const tls = grpc.credentials.createSsl(Buffer.from(rootPem));
        const xds = String(s.lines.find((l) => l['msg'] === 'skeind started')?.['xds']);
        const names = ['kubernetes://gw-cred'];
        const good = await token(['istio-ca']);
        const denied = (): boolean =>
          s.lines.some(
            (l) => l['msg'] === 'proxies get no credentialName secrets' && l['serviceAccount'] === 'demo/web',
          );

        // No Role yet: the review says no, and the gateway gets no Secret.
        expect(await gatewaySecrets(address, tls, good, 'web', names)).toEqual([]);
        await expect.poll(denied, { timeout: 20_000 }).toBe(true);
        expect(await gatewaySecrets(address, tls, good, 'web', names)).toEqual([]);

        // The gateway chart's Role: list (get, watch) Secrets in its namespace.
        await api.apply([
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'gw-sds', namespace: 'demo' },
            rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'gw-sds', namespace: 'demo' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gw-sds' },
            subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: 'demo' }],
          },
        ]);
        // A new connection asks again once the verdict is 5 s old.
        await expect
          .poll(() => gatewaySecrets(address, tls, good, 'web', names), { timeout: 30_000, interval: 1000 })
          .toEqual(names);

        // The same claim on the plaintext port is not verified: nothing, although RBAC allows it.
        expect(await gatewaySecrets(xds, grpc.credentials.createInsecure(), undefined, 'web', names)).toEqual(
          [],
        );
      } finally {
        await stop(s);
      }
    }, 90_000);
  },
);

// kubeconfig exec users: a real plugin process (a node script) writing an ExecCredential, and a
// KubeClient over real HTTPS on loopback that re-runs the plugin when the API server answers 401.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRootCa } from '../pki/ca-material.js';
import { CertificateAuthority } from '../pki/issue.js';
import { issueServingCertificate } from '../server/serving-credentials.js';
import { ExecCredentials } from './exec-credential.js';
import { KubeClient, kubeconfigConnection } from './kube-client.js';

const dir = mkdtempSync(join(tmpdir(), 'skein-exec-cred-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A plugin that counts its runs and answers token `<PREFIX>-<run>` (expiring as told by EXPIRES). */
function plugin(): { script: string; runs: () => number } {
  const counter = join(dir, `runs-${Math.random().toString(36).slice(2)}`);
  writeFileSync(counter, '0');
  const script = join(dir, `plugin-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    [
      "import { readFileSync, writeFileSync } from 'node:fs';",
      `const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;`,
      `writeFileSync(${JSON.stringify(counter)}, String(n));`,
      'const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);',
      'if (info.kind !== "ExecCredential" || info.spec.interactive !== false) process.exit(3);',
      'const status = { token: `${process.env.PREFIX}-${n}` };',
      'if (process.env.EXPIRES) status.expirationTimestamp = process.env.EXPIRES;',
      'console.log(JSON.stringify({ apiVersion: info.apiVersion, kind: "ExecCredential", status }));',
    ].join('\n'),
  );
  return { script, runs: () => Number(readFileSync(counter, 'utf8')) };
}

const kubeconfig = (server: string, caPem: string, script: string, env: Record<string, string>): string => {
  const path = join(dir, `kc-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 't',
      contexts: [{ name: 't', context: { cluster: 'c', user: 'u' } }],
      clusters: [
        {
          name: 'c',
          cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
        },
      ],
      users: [
        {
          name: 'u',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: [script],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
            },
          },
        },
      ],
    }),
  );
  return path;
};

describe('kubeconfig exec users', () => {
  it('runs the plugin with its env and KUBERNETES_EXEC_INFO, caching until the expiry', async () => {
    const p = plugin();
    let now = Date.parse('2030-01-01T00:00:00Z');
    const creds = new ExecCredentials(
      {
        command: process.execPath,
        args: [p.script],
        env: [
          { name: 'PREFIX', value: 'tok' },
          { name: 'EXPIRES', value: '2030-01-01T00:10:00Z' },
        ],
      },
      join(dir, 'kubeconfig'),
      () => now,
    );
    expect((await creds.get()).token).toBe('tok-1');
    expect((await creds.get()).token).toBe('tok-1');
    expect(p.runs()).toBe(1);
    now += 9.5 * 60_000; // within a minute of the expiry: run again
    expect((await creds.get()).token).toBe('tok-2');
  });

  it('says why a failing plugin gave no credentials', async () => {
    const creds = new ExecCredentials({ command: process.execPath, args: ['-e', 'process.exit(7)'] }, dir);
    await expect(creds.get()).rejects.toThrow(/kubeconfig exec plugin/);
  });

  describe('a KubeClient against an HTTPS API server', () => {
    let server: Server;
    afterAll(() => new Promise((r) => server?.close(r)));

    it('sends the plugin token and re-runs the plugin once after a 401', async () => {
      const root = await createRootCa({ trustDomain: 'cluster.local' });
      const ca = await CertificateAuthority.create(root);
      const serving = await issueServingCertificate(ca, {
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      });
      const seen: string[] = [];
      server = createServer({ key: serving.keyPem, cert: serving.certChainPem }, (req, res) => {
        seen.push(req.headers.authorization ?? '');
        // The first token is "revoked"; the second is accepted.
        res.statusCode = req.headers.authorization === 'Bearer exec-2' ? 200 : 401;
        res.end(JSON.stringify({ kind: 'Status' }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const p = plugin();
      const conn = kubeconfigConnection(
        kubeconfig(
          `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
          root.rootCertPem,
          p.script,
          {
            PREFIX: 'exec',
          },
        ),
      );
      const res = await new KubeClient(conn).call('GET', '/api/v1/namespaces');
      expect(res.status).toBe(200);
      expect(seen).toEqual(['Bearer exec-1', 'Bearer exec-2']);
      expect(p.runs()).toBe(2);
    });
  });
});

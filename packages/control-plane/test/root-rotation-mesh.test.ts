// Root CA rotation through the whole mesh: skeind with its embedded CA (directory mode, checking
// its directory every 100 ms) and two sidecars under skein-agent. A TCP service under STRICT mTLS,
// so every call is a new mutual TLS handshake between the sidecars (tcp_proxy opens an upstream
// connection per downstream one). While calls run back to back, the CA directory goes through
// `rotateRoot` prepare → switch → finish; after each step the agents take a new certificate, which
// reaches skein-proxy over SDS (`default` and the `ROOTCA` bundle, seen in its config_dump). The
// client is re-certified under the new root before the server. Not one call fails.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rotateRoot, splitPem } from '@skein/ca';
import { describe, expect, it } from 'vitest';
import { listening, useLoopbackMesh } from './support/mesh-fixture.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';
import { tcpEcho } from './support/traffic.js';
import { twoPodsYaml, type TwoPods } from './support/two-pods.js';

const base = loopbackBase();
const PODS: TwoPods = {
  namespace: 'demo',
  name: 'echo',
  port: { number: 9000, name: 'tcp-echo' },
  appPort: 8000,
  serverIp: `${base}.11`,
  clientIp: `${base}.20`,
  injected: true,
  strict: true,
};
/** One call: a new connection through the client sidecar, a line out, the same line back. */
const echo = (line: string): Promise<string> => tcpEcho({ ip: PODS.clientIp, port: PODS.port.number }, line);

/** The ROOTCA bundle and the `default` certificate a proxy holds (its config_dump, proto field names). */
async function proxySecrets(s: Sidecar): Promise<{ roots: number; defaultCert: string }> {
  type DataSource = { inline_bytes?: string; inline_string?: string } | undefined;
  type Secret = {
    name?: string;
    validation_context?: { trusted_ca?: DataSource };
    tls_certificate?: { certificate_chain?: DataSource };
  };
  const dump = JSON.parse(await s.admin('/config_dump')) as { configs: Record<string, unknown>[] };
  const secrets = dump.configs.find((c) => String(c['@type']).endsWith('SecretsConfigDump')) as {
    dynamic_active_secrets?: { secret: Secret }[];
  };
  const text = (d: DataSource): string =>
    d?.inline_string ?? Buffer.from(d?.inline_bytes ?? '', 'base64').toString();
  let roots = 0;
  let defaultCert = '';
  for (const { secret } of secrets.dynamic_active_secrets ?? []) {
    if (secret.name === 'ROOTCA') roots = splitPem(text(secret.validation_context?.trusted_ca)).length;
    if (secret.name === 'default') defaultCert = text(secret.tls_certificate?.certificate_chain);
  }
  return { roots, defaultCert };
}

describe.skipIf(!proxyBuilt)(
  `root CA rotation through skeind, skein-agent and skein-proxy${proxyBuilt ? '' : ' (skein-proxy not built)'}`,
  () => {
    const f = useLoopbackMesh('skeind-root-rotation-', {
      before: async ({ write }) => {
        write('mesh.yaml', twoPodsYaml(PODS));
        const app = createServer((s) => {
          s.on('error', () => s.destroy());
          s.pipe(s);
        });
        return [await listening(app, PODS.serverIp, PODS.appPort)];
      },
      mesh: {
        namespace: PODS.namespace,
        mtls: true,
        caReloadMs: 100,
        pods: [
          ['echo', PODS.serverIp],
          ['client', PODS.clientIp],
        ],
      },
    });
    const caDir = join(f.dir, 'ca');

    it('keeps every call working across prepare, switch and finish', async () => {
      const m = f.mesh;
      const [server, client] = m.sidecars as [Sidecar, Sidecar];
      const ca = m.cp.ca!;
      await until(
        'a first call through both sidecars',
        async () => (await echo('ping\n')) === 'ping\n',
        60_000,
      );

      let calls = 0;
      const failures: string[] = [];
      let running = true;
      const loop = (async () => {
        for (let i = 0; running; i++) {
          const line = `call ${i}\n`;
          try {
            const got = await echo(line);
            if (got !== line) throw new Error(`got ${JSON.stringify(got)}`);
            calls++;
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      })();
      const more = async (n: number): Promise<void> => {
        const target = calls + n;
        await until(`${n} more calls`, async () => calls >= target || failures.length > 0);
      };
      const renew = async (s: Sidecar, roots: number): Promise<void> => {
        const before = (await proxySecrets(s)).defaultCert;
        await s.refreshCertificate!();
        let seen = { roots: 0, defaultCert: '' };
        await until(`${s.ip} holding its new certificate and ${roots} root(s)`, async () => {
          seen = await proxySecrets(s);
          return seen.defaultCert !== before && seen.roots === roots;
        }).catch((e: Error) => {
          throw new Error(
            `${e.message}: it has ${seen.roots} root(s), certificate changed: ${seen.defaultCert !== before}`,
          );
        });
      };
      try {
        await more(5);
        expect(splitPem(ca.rootCertPem)).toHaveLength(1);

        await rotateRoot(caDir, 'prepare', { trustDomain: 'cluster.local' });
        await until('the CA trusting both roots', async () => splitPem(ca.rootCertPem).length === 2);
        for (const s of [server, client]) await renew(s, 2);
        await more(5);

        const oldRoot = readFileSync(join(caDir, 'self-signed', 'root-cert.pem'), 'utf8');
        await rotateRoot(caDir, 'switch', { trustDomain: 'cluster.local' });
        const newRoot = readFileSync(join(caDir, 'self-signed', 'root-cert.pem'), 'utf8');
        expect(newRoot).not.toBe(oldRoot);
        await until('the CA signing with the new root', async () => splitPem(ca.rootCertPem)[0] === newRoot);
        await renew(client, 2); // the client under the new root, the server still under the old one
        await more(10);
        await renew(server, 2);
        await more(5);

        await rotateRoot(caDir, 'finish', { trustDomain: 'cluster.local' });
        await until('the CA dropping the old root', async () => splitPem(ca.rootCertPem).length === 1);
        for (const s of [server, client]) await renew(s, 1);
        await more(5);
      } finally {
        running = false;
        await loop;
      }
      expect(failures).toEqual([]);
      expect(calls).toBeGreaterThanOrEqual(35);
    }, 120_000);
  },
);

// A real kube-apiserver + etcd on loopback for the CA's Kubernetes-mode tests, from the binaries
// the cluster scripts build into /var/cache/skein (not built here). Token-authenticated admin.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, type KubeConnection } from '../../src/kube/kube-client.js';

const CACHE = process.env['SKEIN_CACHE'] ?? '/var/cache/skein';
export const KUBE_APISERVER =
  process.env['SKEIN_KUBE_APISERVER'] ?? `${CACHE}/k8s-v1.34.4/bin/kube-apiserver`;
export const ETCD = process.env['SKEIN_ETCD'] ?? `${CACHE}/etcd-v3.6.5/etcd`;

/** Why the API server cannot start here ('' when it can). */
export function apiServerMissing(): string {
  const missing = [KUBE_APISERVER, ETCD].filter((p) => !existsSync(p));
  return missing.length
    ? `not built: ${missing.join(', ')} (scripts/cluster/build-k8s.sh, build-tools.sh)`
    : '';
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

export interface TestApiServer {
  connection: KubeConnection;
  stop(): Promise<void>;
}

export async function startTestApiServer(timeoutMs = 100_000): Promise<TestApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-ca-kube-'));
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const launch = (bin: string, args: string[]) => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
    c.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    children.push(c);
  };
  const stop = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
  launch(ETCD, [
    '--name=ca-test',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${client}`,
    `--advertise-client-urls=http://127.0.0.1:${client}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=ca-test=http://127.0.0.1:${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=error',
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`);
  launch(KUBE_APISERVER, [
    `--etcd-servers=http://127.0.0.1:${client}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${secure}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--api-audiences=https://kubernetes.default.svc.cluster.local',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--disable-admission-plugins=ServiceAccount',
    '--v=0',
  ]);
  const server = `https://127.0.0.1:${secure}`;
  const certPath = join(dir, 'certs', 'apiserver.crt');
  const deadline = Date.now() + timeoutMs;
  // Polling start-up of an external process: there is no event to wait for.
  while (Date.now() < deadline) {
    if (children.some((c) => c.exitCode !== null)) break;
    if (existsSync(certPath)) {
      const caPem = readFileSync(certPath, 'utf8');
      try {
        const r = await new KubeClient({ server, token, caPem }).call('GET', '/api/v1/namespaces/default');
        if (r.status === 200) return { connection: { server, token, caPem }, stop };
      } catch {
        // not yet
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`kube-apiserver did not start:\n${logs.join('').slice(-3000)}`);
}

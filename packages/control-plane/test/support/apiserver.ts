// A real kube-apiserver on a real etcd, on loopback ports, for the Kubernetes source's tests.
// The binaries are the ones the cluster scripts build into /var/cache/skein (override with
// SKEIN_KUBE_APISERVER / SKEIN_ETCD). No kubelet: objects are stored and watched, pods never run.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CACHE = process.env['SKEIN_CACHE'] ?? '/var/cache/skein';

function newest(prefix: string, rel: string): string | undefined {
  if (!existsSync(CACHE)) return undefined;
  const dirs = readdirSync(CACHE)
    .filter((d) => d.startsWith(prefix))
    .sort()
    .reverse();
  return dirs.map((d) => join(CACHE, d, rel)).find((p) => existsSync(p));
}

export const apiServerBinary = process.env['SKEIN_KUBE_APISERVER'] ?? newest('k8s-', 'bin/kube-apiserver');
export const kubectlBinary = process.env['SKEIN_KUBECTL'] ?? newest('k8s-', 'bin/kubectl');
export const etcdBinary = process.env['SKEIN_ETCD'] ?? newest('etcd-', 'etcd');
/** Why the fixture cannot run here, or '' when it can. */
export const apiServerMissing =
  apiServerBinary && etcdBinary && kubectlBinary
    ? ''
    : `kube-apiserver/etcd not built under ${CACHE} (scripts/cluster/build-k8s.sh, build-tools.sh)`;

export interface ApiServer {
  readonly kubeconfigPath: string;
  /** `kubectl apply` of JSON/YAML objects (a real client: it keeps x-kubernetes-* schema fields). */
  apply(objects: readonly unknown[]): Promise<void>;
  /** Stops and starts the API server again (etcd keeps the data), on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function launch(bin: string, args: string[], log: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    log.push(d.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

async function terminate(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** GET with the API server's own (self-signed) certificate as the trust anchor; 0 when down. */
function readyz(url: string, token: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = httpsGet(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

export async function startApiServer(): Promise<ApiServer> {
  if (!apiServerBinary || !etcdBinary) throw new Error(apiServerMissing);
  const dir = await mkdtemp(join(tmpdir(), 'skein-kube-'));
  const log: string[] = [];
  const [client, peer, secure] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${client}`;
  const etcd = launch(
    etcdBinary,
    [
      '--name=t',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=t=http://127.0.0.1:${peer}`,
      '--unsafe-no-fsync=true',
      '--log-level=error',
    ],
    log,
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const token = randomBytes(16).toString('hex');
  await writeFile(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`);
  const args = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${secure}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--service-cluster-ip-range=10.96.0.0/16',
    '--disable-admission-plugins=ServiceAccount',
    '--v=0',
  ];
  let api: ChildProcess | undefined;
  const url = `https://127.0.0.1:${secure}`;
  const certPath = join(dir, 'certs', 'apiserver.crt');
  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (existsSync(certPath)) {
        if ((await readyz(`${url}/readyz`, token, await readFile(certPath))) === 200) return;
      }
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready:\n${log.slice(-20).join('')}`);
      if (api?.exitCode !== null && api?.exitCode !== undefined)
        throw new Error(`kube-apiserver exited:\n${log.slice(-20).join('')}`);
      await new Promise((r) => setTimeout(r, 250)); // polling a process we do not control
    }
  };
  const start = async (): Promise<void> => {
    api = launch(apiServerBinary, args, log);
    await waitReady();
  };
  await start();
  const ca = (await readFile(certPath)).toString('base64');
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    `apiVersion: v1\nkind: Config\nclusters: [{ name: t, cluster: { server: "${url}", certificate-authority-data: "${ca}" } }]\nusers: [{ name: admin, user: { token: "${token}" } }]\ncontexts: [{ name: t, context: { cluster: t, user: admin } }]\ncurrent-context: t\n`,
  );
  return {
    kubeconfigPath,
    apply: async (objects) => {
      const file = join(dir, `apply-${randomBytes(4).toString('hex')}.json`);
      await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      await new Promise<void>((resolve, reject) => {
        const out: string[] = [];
        const child = spawn(
          kubectlBinary ?? 'kubectl',
          ['--kubeconfig', kubeconfigPath, 'apply', '-f', file],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
        child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`kubectl apply failed: ${out.join('')}`)),
        );
      });
    },
    restart: async () => {
      await terminate(api);
      await start();
    },
    stop: async () => {
      await terminate(api);
      await terminate(etcd);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

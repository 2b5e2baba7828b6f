/**
 * A real kube-apiserver backed by a real etcd, both started on loopback from binaries built
 * from the Go module proxy (scripts/cluster/build-k8s.sh kube-apiserver, build-tools.sh etcd).
 * No kubelet or scheduler: CRDs, admission webhooks, RBAC, watches and controllers work against
 * it; pods are stored but never run. With `controllerManager: true` a real kube-controller-manager
 * runs too (namespace, garbage-collector, deployment and replicaset controllers), so namespaces
 * finish terminating, foreground deletions complete and Deployments get ReplicaSets and (Pending)
 * pods. For the packages' tests (CA, control-plane, skeinctl, e2e), before and besides kind; it
 * lives here, in the lowest package that needs it, so that every package above can import it
 * (`@skein/ca/testing`) without a dependency cycle. Test infrastructure only: nothing in a binary
 * imports it.
 *
 *   const api = await startApiServer();   // { kubeconfigPath, url, token, caPem, apply, restart, stop }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the cluster scripts build and cache their binaries (scripts/cluster/lib.sh). */
const SKEIN_CACHE = process.env['SKEIN_CACHE'] ?? '/var/cache/skein';

export interface ApiServer {
  readonly kubeconfigPath: string;
  readonly url: string;
  /** The bearer token of the fixture's admin (group system:masters). */
  readonly token: string;
  /** The API server's self-signed serving certificate, the trust anchor for `url`. */
  readonly caPem: string;
  /** `kubectl apply` of objects as the admin (a real client: it keeps x-kubernetes-* schema fields). */
  apply(objects: readonly unknown[]): Promise<void>;
  /** Stops the API server and starts it again on the same port (etcd keeps the data). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ApiServerBinaries {
  readonly kubeApiserver: string;
  readonly etcd: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
}

export interface ApiServerOptions {
  readonly timeoutMs?: number;
  /** Also run kube-controller-manager (namespace, GC, deployment, replicaset controllers). */
  readonly controllerManager?: boolean;
}

/** The controllers the fixture's kube-controller-manager runs: enough for deletion and rollouts. */
const CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'deployment-controller',
  'replicaset-controller',
];

// src/testing/ or dist/testing/ of packages/ca
const REPO_ROOT = join(import.meta.dirname, '..', '..', '..', '..');

/** Where the pinned versions' binaries are (or will be) built; see scripts/cluster/versions.sh. */
export function apiServerBinaries(): ApiServerBinaries {
  const versions = readFileSync(join(REPO_ROOT, 'scripts', 'cluster', 'versions.sh'), 'utf8');
  const pinned = (key: string): string => {
    const m = new RegExp(`^${key}=(\\S+)`, 'm').exec(versions);
    if (m?.[1] === undefined) throw new Error(`${key} not found in scripts/cluster/versions.sh`);
    return m[1];
  };
  const k8sBin = `${SKEIN_CACHE}/k8s-${pinned('K8S_VERSION')}/bin`;
  return {
    kubeApiserver: process.env['SKEIN_KUBE_APISERVER'] ?? `${k8sBin}/kube-apiserver`,
    etcd: process.env['SKEIN_ETCD'] ?? `${SKEIN_CACHE}/etcd-${pinned('ETCD_VERSION')}/etcd`,
    kubeControllerManager:
      process.env['SKEIN_KUBE_CONTROLLER_MANAGER'] ?? `${k8sBin}/kube-controller-manager`,
    kubectl: process.env['SKEIN_KUBECTL'] ?? `${k8sBin}/kubectl`,
  };
}

/**
 * Empty when the binaries exist, else why the fixture cannot start (for a test's skip reason);
 * `controllerManager` also requires kube-controller-manager, `kubectl` (for `apply`) kubectl.
 */
export function apiServerUnavailable(
  bins: ApiServerBinaries = apiServerBinaries(),
  opts: Pick<ApiServerOptions, 'controllerManager'> & { readonly kubectl?: boolean } = {},
): string {
  const extra = [
    ...(opts.controllerManager ? [['kube-controller-manager', bins.kubeControllerManager] as const] : []),
    ...(opts.kubectl ? [['kubectl', bins.kubectl] as const] : []),
  ];
  const needed = [bins.kubeApiserver, bins.etcd, ...extra.map(([, path]) => path)];
  const missing = needed.filter((p) => !existsSync(p));
  if (missing.length === 0) return '';
  const build = ['kube-apiserver', ...extra.map(([name]) => name)].join(' ');
  return `not built: ${missing.join(', ')} (run: bash scripts/cluster/build-k8s.sh ${build} && bash scripts/cluster/build-tools.sh etcd)`;
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const bins = apiServerBinaries();
  const why = apiServerUnavailable(bins, opts);
  if (why !== '') throw new Error(`kube-apiserver fixture ${why}`);
  const dir = await mkdtemp(join(tmpdir(), 'skein-apiserver-'));
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const stop = async (): Promise<void> => {
    for (const child of children.reverse()) await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [clientPort, peerPort, securePort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    children.push(
      launch(
        bins.etcd,
        [
          '--name=fixture',
          `--data-dir=${join(dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
          `--initial-cluster=fixture=http://127.0.0.1:${peerPort}`,
          '--unsafe-no-fsync=true',
          '--log-level=warn',
        ],
        logs,
        'etcd',
      ),
    );

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = generateToken();
    await writeFile(
      join(dir, 'tokens.csv'),
      `${token},skein-fixture-admin,skein-fixture-admin,"system:masters"\n`,
    );

    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--v=0',
    ];
    let apiServer = launch(bins.kubeApiserver, apiArgs, logs, 'kube-apiserver');
    children.push(apiServer);

    const url = `https://127.0.0.1:${securePort}`;
    // the API server writes a self-signed serving certificate (and its CA) into --cert-dir
    const certPath = join(dir, 'certs', 'apiserver.crt');
    const ready = (): Promise<void> =>
      until(
        opts.timeoutMs ?? 90_000,
        () => children.some(exited),
        async () => {
          if (!existsSync(certPath)) return false;
          return (await get(`${url}/readyz`, token, await readFile(certPath))) === 200;
        },
      );
    await ready();
    const caPem = await readFile(certPath, 'utf8');
    const ca = Buffer.from(caPem).toString('base64');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: fixture',
        `    cluster: { server: "${url}", certificate-authority-data: "${ca}" }`,
        'users:',
        '  - name: admin',
        `    user: { token: "${token}" }`,
        'contexts:',
        '  - name: fixture',
        '    context: { cluster: fixture, user: admin }',
        'current-context: fixture',
        '',
      ].join('\n'),
    );
    if (opts.controllerManager) {
      children.push(
        launch(
          bins.kubeControllerManager,
          [
            `--kubeconfig=${kubeconfigPath}`,
            `--authentication-kubeconfig=${kubeconfigPath}`,
            `--authorization-kubeconfig=${kubeconfigPath}`,
            `--controllers=${CONTROLLERS.join(',')}`,
            '--secure-port=0',
            '--leader-elect=false',
            '--use-service-account-credentials=false',
            `--service-account-private-key-file=${join(dir, 'sa.key')}`,
            '--v=0',
          ],
          logs,
          'kube-controller-manager',
        ),
      );
    }
    const apply = async (objects: readonly unknown[]): Promise<void> => {
      const file = join(dir, `apply-${randomBytes(4).toString('hex')}.json`);
      await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      await run(bins.kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '-f', file]);
    };
    const restart = async (): Promise<void> => {
      await terminate(apiServer);
      children.splice(children.indexOf(apiServer), 1);
      apiServer = launch(bins.kubeApiserver, apiArgs, logs, 'kube-apiserver');
      children.push(apiServer);
      await ready().catch((err: Error) => {
        throw new Error(`${err.message} (after a restart)\n${logs.join('').slice(-4000)}`);
      });
    };
    return { kubeconfigPath, url, token, caPem, apply, restart, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- fixture output ---\n${logs.join('').slice(-4000)}`);
  }
}

function launch(bin: string, args: string[], logs: string[], name: string): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    logs.push(`[${name}] ${d.toString('utf8')}`);
    if (logs.length > 400) logs.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', (code, signal) => logs.push(`[${name}] exited code=${code} signal=${signal}\n`));
  return child;
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const out: string[] = [];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${bin} ${args.join(' ')} failed: ${out.join('')}`)),
    );
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function generateToken(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(24)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
}

function get(url: string, token: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, ca, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function until(timeoutMs: number, failed: () => boolean, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    if (failed()) throw new Error('a fixture process exited during start-up');
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kube-apiserver not ready after ${timeoutMs}ms`);
}

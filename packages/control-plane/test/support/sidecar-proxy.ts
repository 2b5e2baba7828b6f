// Runs the real skein-proxy binary as a sidecar of a loopback "pod": a bootstrap from
// @skein/agent's generator pointing at an in-process skeind, interception mode NONE, admin on
// <ip>:15000 and Prometheus stats on <ip>:15090. Tests give each pod its own loopback address.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBootstrap } from '@skein/agent';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const proxyBuilt = existsSync(join(repoRoot, 'packages/proxy/dist/main.js'));

export interface SidecarSpec {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Record<string, string>;
  readonly xds: { readonly host: string; readonly port: number };
  readonly dir: string;
  /** `router` for a gateway (node id `router~...`); default sidecar. */
  readonly type?: 'sidecar' | 'router';
  /** Delta ADS with VHDS (node metadata `SKEIN_VHDS`); default: the generator's (on for sidecars). */
  readonly vhds?: boolean;
}

export interface Sidecar {
  readonly ip: string;
  readonly logs: string[];
  /** GET on the admin port. */
  admin(path: string): Promise<string>;
  /** `/stats/prometheus` through the 15090 listener, as a scraper sees it. */
  prometheus(): Promise<string>;
  /** Under skein-agent (mesh mTLS): a new workload certificate now, pushed to the proxy over SDS. */
  refreshCertificate?(): Promise<void>;
  stop(): Promise<void>;
}

/** A random loopback /24 (127.x.y.0) so parallel runs never share addresses. */
export function loopbackBase(): string {
  return `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
}

/** Polls `check` until it holds (the condition is the synchronisation, not the delay). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startSidecar(spec: SidecarSpec): Promise<Sidecar> {
  const bootstrap = buildBootstrap({
    proxyType: spec.type ?? 'sidecar',
    podName: spec.name,
    namespace: spec.namespace,
    podIp: spec.ip,
    serviceAccount: spec.name,
    labels: spec.labels,
    interceptionMode: 'NONE',
    discovery: { host: spec.xds.host, port: spec.xds.port },
    sdsSocket: join(spec.dir, `${spec.name}.sds`),
    admin: { address: spec.ip, port: 15000 },
    listenAddress: spec.ip,
    statsPort: 15090,
    readinessPort: null,
    ...(spec.vhds !== undefined ? { vhds: spec.vhds } : {}),
  });
  const file = join(spec.dir, `${spec.name}.bootstrap.json`);
  writeFileSync(file, JSON.stringify(bootstrap));
  const logs: string[] = [];
  const child: ChildProcess = spawn(
    process.execPath,
    [join(repoRoot, 'packages/proxy/dist/main.js'), '-c', file],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const admin = async (path: string): Promise<string> => {
    const res = await fetch(`http://${spec.ip}:15000${path}`);
    return res.text();
  };
  const sidecar: Sidecar = {
    ip: spec.ip,
    logs,
    admin,
    prometheus: async () => (await fetch(`http://${spec.ip}:15090/stats/prometheus`)).text(),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    // Generous: a proxy process on a loaded shared machine can take a while to start.
    await until(
      `proxy ${spec.name} ready`,
      async () => (await fetch(`http://${spec.ip}:15000/ready`)).ok,
      60_000,
    );
  } catch (e) {
    await sidecar.stop();
    throw new Error(`${String(e)}\n${logs.join('')}`);
  }
  return sidecar;
}

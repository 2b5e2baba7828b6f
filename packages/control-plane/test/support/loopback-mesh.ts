// skeind in directory mode with a real skein-proxy sidecar per loopback "pod": the setup the
// tests that drive traffic through real proxies share. With `mtls`, skeind embeds its CA and each
// pod's proxy runs under an in-process skein-agent (its SDS server holds the workload certificate
// from skeind's CA), so sidecars talk mesh mTLS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAgent, type RunningAgent } from '@skein/agent';
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane.js';
import type { MeshConfig } from '../../src/model/mesh-config.js';
import { repoRoot, startSidecar, until, type Sidecar } from './sidecar-proxy.js';

export interface LoopbackMeshOptions {
  readonly configDir: string;
  /** Where bootstraps and sockets go. */
  readonly dir: string;
  readonly namespace: string;
  /** `[name, ip]` per pod; each sidecar is labelled `app: <name>`, service account `<name>`. */
  readonly pods: readonly (readonly [string, string])[];
  /** Mesh mTLS: skeind's embedded CA (directory mode, a bootstrap token per pod) and an agent per pod. */
  readonly mtls?: boolean;
  /** With `mtls`: how often the embedded CA checks its directory (`<dir>/ca`) for changes; default 5 s. */
  readonly caReloadMs?: number;
  /** With `mtls`: the workload certificates' lifetime; default one hour. */
  readonly certTtlSeconds?: number;
  /**
   * With `mtls`: each agent relays its proxy's xDS (a Unix socket) to skeind's TLS port, as an
   * injected sidecar's does, instead of the proxy using skeind's plaintext port.
   */
  readonly xdsOverTls?: boolean;
  /** With `mtls`: every agent log line, by pod (they are also kept in the sidecar's `logs`). */
  readonly onAgentLog?: (pod: string, msg: string, fields: Record<string, unknown> | undefined) => void;
  /** skeind's mesh config (default: Istio's defaults). */
  readonly meshConfig?: MeshConfig;
  /** Gateways (`router~` proxies, plaintext xDS) in `namespace`, after the pods' sidecars. */
  readonly routers?: readonly {
    readonly name: string;
    readonly ip: string;
    readonly labels: Record<string, string>;
  }[];
}

export interface LoopbackMesh {
  readonly cp: RunningControlPlane;
  /** skeind's plaintext xDS address, for proxies a test starts itself. */
  readonly xds: { readonly host: string; readonly port: number };
  /** In the order of `pods`, then `routers`. */
  readonly sidecars: Sidecar[];
  stop(): Promise<void>;
}

/** A sidecar run by skein-agent (SDS from skeind's CA), plaintext xDS straight to skeind. */
async function startAgentSidecar(
  o: LoopbackMeshOptions,
  cp: RunningControlPlane,
  name: string,
  ip: string,
): Promise<Sidecar> {
  const ca = cp.ca;
  if (!ca) throw new Error('mtls needs skeind with its CA');
  const [host, port] = cp.xdsAddress.split(':') as [string, string];
  const logs: string[] = [];
  const agent: RunningAgent = await runAgent({
    bootstrap: {
      podName: name,
      namespace: o.namespace,
      podIp: ip,
      serviceAccount: name,
      labels: { app: name },
      interceptionMode: 'NONE',
      discovery: o.xdsOverTls ? { unixSocket: join(o.dir, `${name}.xds`) } : { host, port: Number(port) },
      sdsSocket: join(o.dir, `${name}.sds`),
      admin: { address: ip, port: 15000 },
      listenAddress: ip,
      statsPort: 15090,
      readinessPort: null,
    },
    bootstrapPath: join(o.dir, `${name}.bootstrap.json`),
    proxyCommand: join(repoRoot, 'bin/skein-proxy'),
    proxyArgs: [],
    ca: {
      address: ca.address,
      rootCertPem: ca.rootCertPem,
      token: `tok-${name}`,
      ttlSeconds: o.certTtlSeconds ?? 3600,
    },
    ...(o.xdsOverTls
      ? { xdsRelay: { socketPath: join(o.dir, `${name}.xds`), upstream: ca.address, tls: true } }
      : {}),
    status: { host: ip, port: 15020 },
    drainDurationMs: 0,
    exitOnZeroActiveConnections: true,
    log: (m, f) => {
      logs.push(`${m} ${JSON.stringify(f ?? {})}`);
      o.onAgentLog?.(name, m, f);
    },
  });
  const sidecar: Sidecar = {
    ip,
    logs,
    admin: async (path) => (await fetch(`http://${ip}:15000${path}`)).text(),
    prometheus: async () => (await fetch(`http://${ip}:15090/stats/prometheus`)).text(),
    refreshCertificate: () => agent.refreshCertificate(),
    stop: async () => {
      await agent.terminate();
      await agent.done;
    },
  };
  try {
    await until(`proxy ${name} ready`, async () => (await fetch(`http://${ip}:15000/ready`)).ok, 60_000);
  } catch (e) {
    await sidecar.stop();
    throw new Error(`${String(e)}\n${logs.join('\n')}`);
  }
  return sidecar;
}

export async function startLoopbackMesh(o: LoopbackMeshOptions): Promise<LoopbackMesh> {
  const tokensFile = join(o.dir, 'ca-tokens');
  if (o.mtls)
    writeFileSync(tokensFile, o.pods.map(([name]) => `tok-${name} ${o.namespace} ${name}\n`).join(''));
  const cp = await startControlPlane({
    configDir: o.configDir,
    xdsAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    settleMs: 20,
    debounceMs: 20,
    logLevel: 'none',
    ...(o.mtls
      ? {
          ca: {
            dir: join(o.dir, 'ca'),
            tokensFile,
            secureAddr: '127.0.0.1:0',
            ...(o.caReloadMs ? { reloadMs: o.caReloadMs } : {}),
          },
        }
      : {}),
    ...(o.meshConfig ? { meshConfig: o.meshConfig } : {}),
  });
  const [host, port] = cp.xdsAddress.split(':') as [string, string];
  const sidecars: Sidecar[] = [];
  const stop = async (): Promise<void> => {
    for (const s of sidecars) await s.stop();
    await cp.stop();
  };
  try {
    for (const [name, ip] of o.pods)
      sidecars.push(
        o.mtls
          ? await startAgentSidecar(o, cp, name, ip)
          : await startSidecar({
              name,
              namespace: o.namespace,
              ip,
              labels: { app: name },
              xds: { host, port: Number(port) },
              dir: o.dir,
            }),
      );
    for (const r of o.routers ?? [])
      sidecars.push(
        await startSidecar({
          ...r,
          namespace: o.namespace,
          xds: { host, port: Number(port) },
          dir: o.dir,
          type: 'router',
        }),
      );
  } catch (e) {
    await stop();
    throw e;
  }
  return { cp, xds: { host, port: Number(port) }, sidecars, stop };
}

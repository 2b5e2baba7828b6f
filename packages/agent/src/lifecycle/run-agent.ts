// `skein-agent proxy`: certificates (CA → SDS socket), status server, bootstrap file, the proxy
// child process, and SIGTERM drain — assembled in start order, torn down in reverse.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildBootstrap, type BootstrapOptions } from '../bootstrap/build-bootstrap.js';
import { caSigner, type CaSignerOptions } from '../sds/ca-signer.js';
import { startSdsServer, type RunningSds } from '../sds/sds-server.js';
import { WorkloadCertificate } from '../sds/workload-certificate.js';
import type { AppProbers } from '../status/app-probes.js';
import { proxyReadiness, startStatusServer, type RunningStatus } from '../status/status-server.js';
import { startDnsProxy, type RunningDnsProxy } from '../dns/dns-proxy.js';
import { indexNameTable, type NameTableIndex } from '../dns/name-table.js';
import { subscribeNameTable } from '../dns/nds-client.js';
import { nodeId, nodeMetadata } from '../bootstrap/node-identity.js';
import { meshChannelCredentials, startXdsRelay, type RunningXdsRelay } from '../xds/xds-relay.js';
import * as grpc from '@grpc/grpc-js';
import { drainProxy } from './drain.js';
import { exitCodeOf, startProxyProcess, type ProxyProcess } from './proxy-process.js';

export interface AgentConfig {
  bootstrap: BootstrapOptions;
  /** Where the bootstrap is written for the proxy. */
  bootstrapPath: string;
  proxyCommand: string;
  proxyArgs: string[];
  /** Certificates from a CA served over SDS; omitted: no SDS server (plaintext mesh). */
  ca?: Omit<CaSignerOptions, 'certificate'> & { identity?: string; ttlSeconds: number };
  status: { host: string; port: number; probers?: AppProbers; appHost?: string; appMetricsUrl?: string };
  /**
   * Local xDS relay: the proxy's xds-grpc cluster points at `socketPath` and the agent carries the
   * streams to `upstream` (over TLS with the workload certificate when `tls`; needs `ca`).
   */
  xdsRelay?: { socketPath: string; upstream: string; tls: boolean; serverName?: string };
  /** DNS proxy answering mesh names from skeind's name table (NDS over `xdsAddress`). */
  dns?: { host: string; port: number; upstreams: string[]; xdsAddress: string };
  drainDurationMs: number;
  exitOnZeroActiveConnections: boolean;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningAgent {
  proxy: ProxyProcess;
  statusPort: number;
  /** Resolves with the exit code the agent should exit with. */
  done: Promise<number>;
  /** SIGTERM behaviour: drain, then stop the proxy. */
  terminate(): Promise<void>;
  /**
   * Requests a new workload certificate now (as the rotation timer does) and resolves when it is
   * in hand and pushed to SDS streams — e.g. to take a root rotation's new trust bundle at once.
   * Without a CA: nothing.
   */
  refreshCertificate(): Promise<void>;
}

export async function runAgent(c: AgentConfig): Promise<RunningAgent> {
  let cert: WorkloadCertificate | undefined;
  let sds: RunningSds | undefined;
  if (c.ca) {
    const { identity, ttlSeconds, ...signerOptions } = c.ca;
    cert = new WorkloadCertificate({
      signer: caSigner({ ...signerOptions, certificate: () => cert }),
      ttlSeconds,
      ...(identity ? { identity } : {}),
      log: (m, f) => c.log(m, { scope: 'cert', ...f }),
    });
    sds = await startSdsServer({
      socketPath: c.bootstrap.sdsSocket ?? './var/run/secrets/workload-spiffe-uds/socket',
      certificate: cert,
      log: (m, f) => c.log(m, { scope: 'sds', ...f }),
    });
    void cert.start();
  }

  let relay: RunningXdsRelay | undefined;
  if (c.xdsRelay) {
    const r = c.xdsRelay;
    if (r.tls && !c.ca) throw new Error('the xDS relay needs a CA (--ca-address) to reach skeind over TLS');
    relay = await startXdsRelay({
      socketPath: r.socketPath,
      upstream: r.upstream,
      ...(r.serverName ? { serverName: r.serverName } : {}),
      credentials:
        r.tls && c.ca
          ? meshChannelCredentials(c.ca.rootCertPem, () => cert?.secret)
          : () => grpc.credentials.createInsecure(),
      log: (m, f) => c.log(m, { scope: 'xds-relay', ...f }),
    });
  }
  let dns: RunningDnsProxy | undefined;
  let nds: { close(): void } | undefined;
  if (c.dns) {
    let table: NameTableIndex | undefined;
    nds = subscribeNameTable({
      address: c.dns.xdsAddress,
      nodeId: nodeId(c.bootstrap),
      nodeMetadata: nodeMetadata(c.bootstrap),
      onTable: (t) => {
        table = indexNameTable(t, c.bootstrap.namespace);
        c.log('name table updated', { scope: 'dns', names: table.size });
      },
      log: (m, f) => c.log(m, { scope: 'dns', ...f }),
    });
    dns = await startDnsProxy({
      host: c.dns.host,
      port: c.dns.port,
      upstreams: c.dns.upstreams,
      table: () => table,
    });
  }

  const admin = `http://${c.bootstrap.admin?.address ?? '127.0.0.1'}:${c.bootstrap.admin?.port ?? 15000}`;
  const status: RunningStatus = await startStatusServer({
    host: c.status.host,
    port: c.status.port,
    readiness: proxyReadiness(admin, () =>
      !cert || cert.secret
        ? { ready: true, reason: '' }
        : { ready: false, reason: 'workload certificate not issued yet' },
    ),
    ...(c.status.probers ? { probers: c.status.probers } : {}),
    ...(c.status.appHost ? { appHost: c.status.appHost } : {}),
    metricsSources: [
      `${admin}/stats/prometheus`,
      ...(c.status.appMetricsUrl ? [c.status.appMetricsUrl] : []),
    ],
    agentMetrics: () =>
      `# TYPE skein_agent_cert_expiry_seconds gauge\nskein_agent_cert_expiry_seconds ${
        cert?.secret ? Math.round(cert.secret.notAfter.getTime() / 1000) : 0
      }\n`,
  });

  mkdirSync(dirname(c.bootstrapPath), { recursive: true });
  const bootstrap = buildBootstrap({
    ...c.bootstrap,
    ...(c.xdsRelay ? { discovery: { unixSocket: c.xdsRelay.socketPath } } : {}),
    // The proxy reaches the status server where --agent-address says (it may be the pod IP).
    agent: { address: c.bootstrap.agent?.address ?? '127.0.0.1', port: status.port },
  });
  writeFileSync(c.bootstrapPath, `${JSON.stringify(bootstrap, null, 2)}\n`);
  const proxy = startProxyProcess({ command: c.proxyCommand, args: [...c.proxyArgs, '-c', c.bootstrapPath] });
  c.log('proxy started', { pid: proxy.child.pid, bootstrap: c.bootstrapPath });

  let terminating: Promise<void> | undefined;
  const done = proxy.exited.then(async (e) => {
    c.log('proxy exited', { code: e.code, signal: e.signal });
    cert?.stop();
    nds?.close();
    await dns?.close();
    await relay?.close();
    await sds?.close();
    await status.close();
    return terminating && e.signal === 'SIGTERM' ? 0 : exitCodeOf(e);
  });
  return {
    proxy,
    statusPort: status.port,
    done,
    refreshCertificate: async () => {
      if (!cert) return;
      const before = cert.secret?.version ?? 0;
      await cert.refresh();
      if ((cert.secret?.version ?? 0) === before) throw new Error('the certificate request failed');
    },
    terminate: () =>
      (terminating ??= drainProxy({
        adminUrl: admin,
        drainDurationMs: c.drainDurationMs,
        exitOnZeroActiveConnections: c.exitOnZeroActiveConnections,
        stopProxy: () => proxy.signal('SIGTERM'),
        log: (m, f) => c.log(m, { scope: 'drain', ...f }),
      }).then(() => undefined)),
  };
}

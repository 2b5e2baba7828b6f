// Turns skein-agent's command-line values (strings, as commander hands them) into BootstrapOptions.
import type { BootstrapOptions, DiscoveryAddress } from './build-bootstrap.js';
import type { InterceptionMode, PodPort, ProxyType } from './node-identity.js';

/** The raw flag values `skein-agent bootstrap|proxy` accept (see main.ts for defaults and help). */
export interface BootstrapFlags {
  type: string;
  podName: string;
  namespace: string;
  podIp: string;
  serviceAccount: string;
  clusterId: string;
  meshId: string;
  workloadName?: string;
  label: string[];
  interceptionMode?: string;
  podPorts?: string;
  appContainers?: string;
  discoveryAddress: string;
  discoveryTls?: boolean;
  discoveryServerName?: string;
  /** Delta ADS with VHDS for sidecars (`--vhds`, the default; `--no-vhds` turns it off). */
  vhds?: boolean;
  sdsSocket: string;
  adminAddress: string;
  adminPort: string;
  listenAddress: string;
  statsPort: string;
  readinessPort: string;
  readinessSource: string;
  agentAddress: string;
  agentPort: string;
}

/** Parses `host:port`, `[v6]:port` or `unix:/path` into a discovery address. */
export function parseDiscoveryAddress(s: string, tls: boolean, serverName?: string): DiscoveryAddress {
  if (s.startsWith('unix:')) return { unixSocket: s.slice('unix:'.length) };
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new Error(`discovery address "${s}" is neither host:port nor unix:/path`);
  const host = m[1]!;
  const port = Number(m[2]);
  return tls ? { host, port, tls: serverName ? { serverName } : {} } : { host, port };
}

/** Parses `k=v` label flags. */
export function parseLabels(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`label "${item}" is not key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function port(name: string, s: string): number | null {
  if (s === 'none' || s === '0') return null;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name}: "${s}" is not a port`);
  return n;
}

function requiredPort(name: string, s: string): number {
  const p = port(name, s);
  if (p === null) throw new Error(`--${name} cannot be disabled`);
  return p;
}

/**
 * Whether the proxy binary the agent starts is skein-proxy (`bin/skein-proxy`, its `dist/main.js`,
 * or any file named `skein-proxy*`): only skein-proxy gets the VHDS default, since skeind's VHDS
 * (route configurations that name their virtual hosts by `<route config>/<host>`, the full set
 * subscribed by the route configuration's name) is what skein-proxy's client speaks.
 */
export function isSkeinProxy(binary: string): boolean {
  const parts = binary.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (base.startsWith('skein-proxy')) return true;
  return base === 'main.js' && parts[parts.length - 3] === 'proxy' && parts[parts.length - 2] === 'dist';
}

export function bootstrapOptionsFromFlags(f: BootstrapFlags): BootstrapOptions {
  if (f.type !== 'sidecar' && f.type !== 'router') throw new Error(`--type must be sidecar or router`);
  if (f.readinessSource !== 'agent' && f.readinessSource !== 'admin')
    throw new Error('--readiness-source must be agent or admin');
  const podPorts: PodPort[] | undefined = f.podPorts ? (JSON.parse(f.podPorts) as PodPort[]) : undefined;
  return {
    proxyType: f.type as ProxyType,
    podName: f.podName,
    namespace: f.namespace,
    podIp: f.podIp,
    serviceAccount: f.serviceAccount,
    clusterId: f.clusterId,
    meshId: f.meshId,
    labels: parseLabels(f.label),
    ...(f.workloadName ? { workloadName: f.workloadName } : {}),
    ...(f.interceptionMode ? { interceptionMode: f.interceptionMode as InterceptionMode } : {}),
    ...(podPorts ? { podPorts } : {}),
    ...(f.appContainers ? { appContainers: f.appContainers.split(',').filter(Boolean) } : {}),
    discovery: parseDiscoveryAddress(f.discoveryAddress, f.discoveryTls ?? false, f.discoveryServerName),
    // VHDS only for sidecars: a router (gateway) keeps SotW ADS and whole route configurations.
    vhds: f.vhds !== false && f.type === 'sidecar',
    sdsSocket: f.sdsSocket,
    admin: { address: f.adminAddress, port: requiredPort('admin-port', f.adminPort) },
    listenAddress: f.listenAddress,
    statsPort: port('stats-port', f.statsPort),
    readinessPort: port('readiness-port', f.readinessPort),
    readinessSource: f.readinessSource,
    agent: { address: f.agentAddress, port: requiredPort('agent-port', f.agentPort) },
  };
}

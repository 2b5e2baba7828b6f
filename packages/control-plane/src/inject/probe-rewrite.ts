// Application probes rewritten to the agent (Istio's rewriteAppHTTPProbers): with mutual TLS on
// the app's port the kubelet cannot reach it, so each HTTP, TCP or gRPC probe becomes an HTTP GET
// of `/app-health/<container>/livez|readyz|startupz` on the agent's status port 15020, and the
// original probe goes to the agent in ISTIO_KUBE_APP_PROBERS, which runs it from inside the pod.
// HTTP and TCP probes without a host go to 127.0.0.1: the agent (UID 1337) calling the pod's own
// IP is redirected to the proxy's inbound port by the capture rules and would show up in the
// workload's request metrics as an unknown caller (Istio's agent avoids that by calling from
// 127.0.0.6, which skein-agent does not do yet).
const PROBE_HOST = '127.0.0.1';
import { PORTS } from './injector-config.js';
import type { Container, Probe } from './pod-types.js';

const KINDS = [
  ['livenessProbe', 'livez'],
  ['readinessProbe', 'readyz'],
  ['startupProbe', 'startupz'],
] as const;

/** Path → the original probe, in the JSON shape the agent's `--app-probers` reads. */
export type AppProbers = Record<string, Record<string, unknown>>;

function resolvePort(port: number | string, c: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** The probe the agent runs, or undefined when this probe is not rewritten (exec, unknown port). */
function original(p: Probe, c: Container): Record<string, unknown> | undefined {
  const timeout = p.timeoutSeconds !== undefined ? { timeoutSeconds: p.timeoutSeconds } : {};
  if (p.httpGet) {
    const port = resolvePort(p.httpGet.port, c);
    if (port === undefined) return undefined;
    return { httpGet: { host: PROBE_HOST, ...p.httpGet, port }, ...timeout };
  }
  if (p.tcpSocket) {
    const port = resolvePort(p.tcpSocket.port, c);
    if (port === undefined) return undefined;
    return { tcpSocket: { host: PROBE_HOST, ...p.tcpSocket, port }, ...timeout };
  }
  if (p.grpc) return { grpc: { ...p.grpc }, ...timeout };
  return undefined;
}

/** The containers with their probes pointed at the agent, and what the agent must run. */
export function rewriteProbes(containers: readonly Container[]): {
  containers: Container[];
  probers: AppProbers;
} {
  const probers: AppProbers = {};
  const out = containers.map((c) => {
    const next: Container = { ...c };
    for (const [field, suffix] of KINDS) {
      const p = c[field];
      if (!p) continue;
      const o = original(p, c);
      if (!o) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      probers[path] = o;
      const { httpGet: _h, tcpSocket: _t, grpc: _g, ...timing } = p;
      next[field] = { ...timing, httpGet: { path, port: PORTS.agentStatus, scheme: 'HTTP' } };
    }
    return next;
  });
  return { containers: out, probers };
}

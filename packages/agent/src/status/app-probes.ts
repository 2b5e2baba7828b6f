// Rewritten application probes (Istio's ISTIO_KUBE_APP_PROBERS): the kubelet calls the agent on
// 15020 at /app-health/<container>/readyz|livez|startupz, the agent runs the original HTTP, TCP or
// gRPC probe against the app from inside the pod. Probes to the pod's own IPv4 address leave from
// 127.0.0.6, as Istio's agent does: the capture rules return traffic from 127.0.0.6 on `lo`, so the
// probe reaches the app directly instead of being redirected into the sidecar's inbound listener
// (where STRICT mTLS would refuse it).
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { grpcHealthCheck } from './grpc-health-probe.js';

/** The source address of probes, which the iptables rules pass through (Istio's InboundPassthroughBindIpv4). */
export const PROBE_SOURCE_IPV4 = '127.0.0.6';

export interface HttpGetProbe {
  httpGet: {
    path?: string;
    port: number;
    host?: string;
    scheme?: 'HTTP' | 'HTTPS';
    httpHeaders?: { name: string; value: string }[];
  };
  timeoutSeconds?: number;
}
export interface TcpProbe {
  tcpSocket: { port: number; host?: string };
  timeoutSeconds?: number;
}
export interface GrpcProbe {
  grpc: { port: number; service?: string };
  timeoutSeconds?: number;
}
export type AppProbe = HttpGetProbe | TcpProbe | GrpcProbe;

/** Path (`/app-health/<container>/readyz`) → probe, as the injector writes ISTIO_KUBE_APP_PROBERS. */
export type AppProbers = Record<string, AppProbe>;

export interface ProbeResult {
  ok: boolean;
  status: number;
  detail: string;
}

/**
 * Runs one probe against the app at `defaultHost` (the pod IP or 127.0.0.1). `sourceAddress`
 * (default 127.0.0.6) binds connections to the pod's own IPv4 address or to loopback; a probe to
 * another host (an explicit `httpGet.host`, `tcpSocket.host`) or over IPv6 leaves unbound.
 */
export async function runProbe(
  p: AppProbe,
  defaultHost: string,
  sourceAddress: string | null = PROBE_SOURCE_IPV4,
): Promise<ProbeResult> {
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  const from = (host: string): { localAddress?: string } =>
    sourceAddress && net.isIPv4(host) && (host === defaultHost || host.startsWith('127.'))
      ? { localAddress: sourceAddress }
      : {};
  try {
    if ('httpGet' in p) {
      const host = p.httpGet.host ?? defaultHost;
      return await httpProbe(p, host, timeoutMs, from(host));
    }
    if ('tcpSocket' in p) {
      const host = p.tcpSocket.host ?? defaultHost;
      return await tcpProbe(host, p.tcpSocket.port, timeoutMs, from(host));
    }
    const r = await grpcHealthCheck({
      host: defaultHost,
      port: p.grpc.port,
      service: p.grpc.service ?? '',
      timeoutMs,
      ...from(defaultHost),
    });
    const ok = r.grpcStatus === 0 && r.servingStatus === 1;
    return {
      ok,
      status: ok ? 200 : 503,
      detail: ok ? 'SERVING' : r.grpcStatus === 0 ? `status ${r.servingStatus}` : r.detail,
    };
  } catch (e) {
    return { ok: false, status: 503, detail: (e as Error).message };
  }
}

function httpProbe(
  p: HttpGetProbe,
  host: string,
  timeoutMs: number,
  bind: { localAddress?: string },
): Promise<ProbeResult> {
  const g = p.httpGet;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/skein-agent' };
  for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
  const secure = g.scheme === 'HTTPS';
  return new Promise((resolve) => {
    const options = {
      host,
      port: g.port,
      path: g.path ?? '/',
      headers,
      timeout: timeoutMs,
      agent: false as const,
      ...bind,
    };
    const onResponse = (res: http.IncomingMessage): void => {
      res.resume();
      const status = res.statusCode ?? 0;
      // Kubernetes: 200 <= code < 400 succeeds (redirects are not followed).
      res.once('end', () => resolve({ ok: status >= 200 && status < 400, status, detail: `HTTP ${status}` }));
    };
    // The kubelet does not verify the app's certificate on HTTPS probes.
    const req = secure
      ? https.get({ ...options, rejectUnauthorized: false }, onResponse)
      : http.get(options, onResponse);
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (e) => resolve({ ok: false, status: 503, detail: e.message }));
  });
}

function tcpProbe(
  host: string,
  port: number,
  timeoutMs: number,
  bind: { localAddress?: string },
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs, ...bind });
    s.once('connect', () => {
      s.destroy();
      resolve({ ok: true, status: 200, detail: 'connected' });
    });
    s.once('timeout', () => {
      s.destroy();
      resolve({ ok: false, status: 503, detail: 'timeout' });
    });
    s.once('error', (e) => resolve({ ok: false, status: 503, detail: e.message }));
  });
}

// Rewritten application probes (Istio's ISTIO_KUBE_APP_PROBERS): the kubelet calls the agent on
// 15020 at /app-health/<container>/readyz|livez|startupz, the agent runs the original HTTP, TCP or
// gRPC probe against the app from inside the pod.
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';

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

/** Runs one probe against the app at `defaultHost` (the pod IP or 127.0.0.1). */
export async function runProbe(p: AppProbe, defaultHost: string): Promise<ProbeResult> {
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  try {
    if ('httpGet' in p) return await httpProbe(p, defaultHost, timeoutMs);
    if ('tcpSocket' in p) return await tcpProbe(p.tcpSocket.host ?? defaultHost, p.tcpSocket.port, timeoutMs);
    return await grpcProbe(defaultHost, p.grpc.port, p.grpc.service ?? '', timeoutMs);
  } catch (e) {
    return { ok: false, status: 503, detail: (e as Error).message };
  }
}

async function httpProbe(p: HttpGetProbe, defaultHost: string, timeoutMs: number): Promise<ProbeResult> {
  const g = p.httpGet;
  const host = g.host ?? defaultHost;
  const url = `${(g.scheme ?? 'HTTP').toLowerCase()}://${host.includes(':') ? `[${host}]` : host}:${g.port}${g.path ?? '/'}`;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/skein-agent' };
  for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await res.arrayBuffer();
  // Kubernetes: 200 <= code < 400 succeeds.
  return { ok: res.status >= 200 && res.status < 400, status: res.status, detail: `HTTP ${res.status}` };
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
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

// grpc.health.v1.HealthCheckRequest { string service = 1; } / HealthCheckResponse { ServingStatus status = 1; }
// Two one-field messages, encoded here rather than pulling in the health proto.
function encodeHealthRequest(service: string): Buffer {
  const s = Buffer.from(service);
  return s.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, s.length]), s]);
}
function decodeHealthStatus(b: Buffer): number {
  return b.length >= 2 && b[0] === 0x08 ? b[1]! : 0;
}

function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeResult> {
  const client = new grpc.Client(
    `${host.includes(':') ? `[${host}]` : host}:${port}`,
    grpc.credentials.createInsecure(),
  );
  return new Promise<ProbeResult>((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (s: string) => encodeHealthRequest(s),
      (b: Buffer) => decodeHealthStatus(b),
      service,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, status?: number) => {
        client.close();
        if (err) resolve({ ok: false, status: 503, detail: err.message });
        else
          resolve({
            ok: status === 1,
            status: status === 1 ? 200 : 503,
            detail: status === 1 ? 'SERVING' : `status ${status}`,
          });
      },
    );
  });
}

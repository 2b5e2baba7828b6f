// The agent's status server (15020): /healthz/ready (proxy has its first config and the workload
// certificate is there), rewritten app probes, and merged Prometheus metrics (agent + proxy + app).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runProbe, type AppProbers } from './app-probes.js';

export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface StatusServerOptions {
  host: string;
  port: number;
  /** Whether the pod is ready (see proxyReadiness). */
  readiness: () => Promise<Readiness>;
  probers?: AppProbers;
  /** Where app probes go: the pod IP (or 127.0.0.1 without a pod). */
  appHost?: string;
  /** Prometheus text sources merged on /stats/prometheus, in order (proxy, app...). */
  metricsSources?: string[];
  /** The agent's own metrics in Prometheus text. */
  agentMetrics?: () => string;
}

export interface RunningStatus {
  port: number;
  close(): Promise<void>;
}

/** Ready when the proxy admin `/ready` answers 200 (LIVE: first full config applied) and `extra` holds. */
export function proxyReadiness(
  adminUrl: string,
  extra: () => Readiness = () => ({ ready: true, reason: '' }),
) {
  return async (): Promise<Readiness> => {
    const e = extra();
    if (!e.ready) return e;
    try {
      const res = await fetch(`${adminUrl}/ready`, { signal: AbortSignal.timeout(1000) });
      const text = (await res.text()).trim();
      return res.status === 200
        ? { ready: true, reason: text || 'LIVE' }
        : { ready: false, reason: `proxy: ${text}` };
    } catch (err) {
      return { ready: false, reason: `proxy admin unreachable: ${(err as Error).message}` };
    }
  };
}

async function scrape(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

export async function startStatusServer(o: StatusServerOptions): Promise<RunningStatus> {
  const server = http.createServer((req, res) => {
    void handle(req.url ?? '/', res);
  });
  async function handle(url: string, res: http.ServerResponse): Promise<void> {
    const path = url.split('?')[0]!;
    if (path === '/healthz/ready') {
      const r = await o.readiness();
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(r.reason ? `${r.reason}\n` : '');
      return;
    }
    const probe = o.probers?.[path];
    if (probe) {
      const r = await runProbe(probe, o.appHost ?? '127.0.0.1');
      res
        .writeHead(r.ok ? 200 : r.status >= 400 ? r.status : 503, { 'content-type': 'text/plain' })
        .end(`${r.detail}\n`);
      return;
    }
    if (path === '/stats/prometheus' || path === '/metrics') {
      const parts = await Promise.all((o.metricsSources ?? []).map(scrape));
      const body = [o.agentMetrics?.() ?? '', ...parts]
        .filter((p) => p.length > 0)
        .map((p) => (p.endsWith('\n') ? p : `${p}\n`));
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body.join(''));
      return;
    }
    if (path.startsWith('/app-health/')) {
      res.writeHead(404).end(`no probe registered for ${path}\n`);
      return;
    }
    res.writeHead(404).end();
  }
  server.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

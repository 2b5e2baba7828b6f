// HTTP health checks over HTTP/2 (`codec_client_type: HTTP2`, h2c upstreams),
// `x-envoy-immediate-health-check-fail` (the host is failed on the first such answer, whatever
// `unhealthy_threshold` says) and `reuse_connection` (default true: one connection for all
// checks of a host, over HTTP/1.1 and HTTP/2), against real upstreams on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, httpListener, staticCluster, anyHostRoutes } from './helpers/upstreams.js';
import { until } from './helpers/until.js';

interface Upstream {
  port: number;
  /** Status of /healthz, and whether it carries x-envoy-immediate-health-check-fail. */
  health: number;
  immediateFail: boolean;
  checks: { authority: string; agent: string; http2: boolean }[];
  /** The client port of each check (one port: one connection). */
  ports: number[];
  close(): Promise<void>;
}

async function startUpstream(kind: 'h2c' | 'http1'): Promise<Upstream> {
  const u: Upstream = {
    port: 0,
    health: 200,
    immediateFail: false,
    checks: [],
    ports: [],
    close: async () => {},
  };
  const handler = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ): void => {
    if (req.url !== '/healthz') return void res.end('app');
    u.checks.push({
      authority: (req.headers[':authority'] ?? req.headers.host ?? '') as string,
      agent: req.headers['user-agent'] ?? '',
      http2: req.httpVersion === '2.0',
    });
    u.ports.push(req.socket.remotePort ?? 0);
    if (u.immediateFail) res.setHeader('x-envoy-immediate-health-check-fail', '');
    res.statusCode = u.health;
    res.end();
  };
  const server = kind === 'h2c' ? http2.createServer(handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.port = (server.address() as AddressInfo).port;
  u.close = () =>
    new Promise<void>((r) => {
      if (server instanceof http.Server) server.closeAllConnections();
      server.close(() => r());
    });
  return u;
}

let proxy: RunningProxy;
let ok: Upstream;
let failing: Upstream;
let h1: Upstream;
let fresh: Upstream;
let h2Kept: Upstream;
let h2Fresh: Upstream;

const check = (http2Codec: boolean, threshold: number): Record<string, unknown> => ({
  timeout: '1s',
  interval: '0.05s',
  no_traffic_interval: '0.05s',
  unhealthy_threshold: threshold,
  healthy_threshold: 1,
  http_health_check: {
    path: '/healthz',
    host: 'hc.example',
    ...(http2Codec ? { codec_client_type: 'HTTP2' } : {}),
  },
});

beforeAll(async () => {
  ok = await startUpstream('h2c');
  failing = await startUpstream('h2c');
  failing.health = 503;
  h1 = await startUpstream('http1');
  fresh = await startUpstream('http1');
  h2Kept = await startUpstream('h2c');
  h2Fresh = await startUpstream('h2c');
  proxy = await startProxy(
    {
      node: { id: 'hc-h2', cluster: 'test' },
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', anyHostRoutes([{ match: { prefix: '/' }, route: { cluster: 'h2' } }])),
        ],
        clusters: [
          staticCluster('h2', [ok.port, failing.port], { health_checks: [check(true, 1)] }),
          // A high threshold: only the immediate-fail header can fail the host quickly.
          staticCluster('h1', [h1.port], { health_checks: [check(false, 1000)] }),
          staticCluster('fresh', [fresh.port], {
            health_checks: [{ ...check(false, 1), reuse_connection: false }],
          }),
          staticCluster('h2-kept', [h2Kept.port], { health_checks: [check(true, 1)] }),
          staticCluster('h2-fresh', [h2Fresh.port], {
            health_checks: [{ ...check(true, 1), reuse_connection: false }],
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  for (const u of [ok, failing, h1, fresh, h2Kept, h2Fresh]) await u?.close();
});

async function clusters(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/clusters`)).text();
}

/** Waits until /clusters shows this host line. */
async function waitFlag(cluster: string, hostPort: number, flags: string): Promise<void> {
  const line = `${cluster}::127.0.0.1:${hostPort}::health_flags::${flags}\n`;
  await until(`/clusters to show ${line.trim()}`, async () => (await clusters()).includes(line));
}

describe('HTTP health checks over HTTP/2', () => {
  it('check over h2c with the configured authority; the status decides', async () => {
    await waitFlag('h2', ok.port, 'healthy');
    await waitFlag('h2', failing.port, '/failed_active_hc');
    expect(ok.checks[0]).toEqual({ authority: 'hc.example', agent: 'Envoy/HC', http2: true });
    failing.health = 200;
    await waitFlag('h2', failing.port, 'healthy');
  });
});

describe('x-envoy-immediate-health-check-fail', () => {
  it('fails the host on the first answer carrying it, below unhealthy_threshold', async () => {
    await waitFlag('h1', h1.port, 'healthy');
    const before = h1.checks.length;
    h1.immediateFail = true;
    await waitFlag('h1', h1.port, '/failed_active_hc');
    // One answer was enough (the threshold is 1000); a second check may have been in flight.
    expect(h1.checks.length - before).toBeLessThanOrEqual(2);
    h1.immediateFail = false;
    await waitFlag('h1', h1.port, 'healthy');
  });

  it('over HTTP/2 too', async () => {
    ok.immediateFail = true;
    ok.health = 200;
    await waitFlag('h2', ok.port, '/failed_active_hc');
    ok.immediateFail = false;
    await waitFlag('h2', ok.port, 'healthy');
  });
});

describe('reuse_connection', () => {
  it('by default, the checks of a host share one connection', async () => {
    const from = h1.ports.length;
    await until('four more checks', () => h1.ports.length >= from + 4);
    expect(new Set(h1.ports.slice(from)).size).toBe(1);
  });

  it('false: each check opens a connection of its own', async () => {
    await until('four checks', () => fresh.ports.length >= 4);
    expect(new Set(fresh.ports.slice(0, 4)).size).toBe(4);
  });

  it('over HTTP/2, by default, the checks of a host are streams of one session', async () => {
    await until('four checks', () => h2Kept.ports.length >= 4);
    expect(new Set(h2Kept.ports.slice(0, 4)).size).toBe(1);
    expect(h2Kept.checks.every((c) => c.http2)).toBe(true);
  });

  it('over HTTP/2 with false, each check opens a session of its own', async () => {
    await until('four checks', () => h2Fresh.ports.length >= 4);
    expect(new Set(h2Fresh.ports.slice(0, 4)).size).toBe(4);
  });
});

// Health-check timing against real upstreams: the edge intervals (the check right after a host
// changed state comes after `healthy_edge_interval` / `unhealthy_edge_interval`, the ones after
// it at `interval` / `unhealthy_interval`) and `no_traffic_healthy_interval` (a healthy host of a
// cluster that never carried traffic is checked at it, an unhealthy one at `no_traffic_interval`).
// The waits compared differ twentyfold, so the bounds hold on a loaded machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type net from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster, anyHostRoutes } from './helpers/upstreams.js';
import { until } from './helpers/until.js';

interface Upstream {
  port: number;
  health: number;
  /** Each check's arrival time and the status it was answered. */
  checks: { at: number; status: number }[];
  server: http.Server;
}

async function startUpstream(health: number): Promise<Upstream> {
  const u: Upstream = { port: 0, health, checks: [], server: http.createServer() };
  u.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url !== '/healthz') return void res.end('app');
    u.checks.push({ at: Date.now(), status: u.health });
    res.writeHead(u.health).end();
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
  u.port = (u.server.address() as net.AddressInfo).port;
  return u;
}

let proxy: RunningProxy;
let edges: Upstream;
let quiet: Upstream;

const base = {
  timeout: '1s',
  unhealthy_threshold: 1,
  healthy_threshold: 1,
  http_health_check: { path: '/healthz' },
};

beforeAll(async () => {
  edges = await startUpstream(200);
  quiet = await startUpstream(503);
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', anyHostRoutes([{ match: { prefix: '/' }, route: { cluster: 'edges' } }])),
        ],
        clusters: [
          staticCluster('edges', [edges.port], {
            health_checks: [
              {
                ...base,
                interval: '0.4s',
                unhealthy_interval: '0.4s',
                healthy_edge_interval: '0.02s',
                unhealthy_edge_interval: '0.02s',
                no_traffic_interval: '0.02s',
              },
            ],
          }),
          staticCluster('quiet', [quiet.port], {
            health_checks: [
              {
                ...base,
                interval: '0.02s',
                no_traffic_interval: '0.02s',
                no_traffic_healthy_interval: '0.5s',
              },
            ],
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  for (const u of [edges, quiet]) {
    u?.server.closeAllConnections();
    await new Promise<void>((r) => u?.server.close(() => r()));
  }
});

/** Gaps after the first check answered `status` from index `from`: to the next check and the one after. */
function gapsAfterFirst(u: Upstream, status: number, from: number): [number, number] {
  const i = u.checks.findIndex((c, k) => k >= from && c.status === status);
  const at = (k: number): number => u.checks[k]?.at ?? NaN;
  return [at(i + 1) - at(i), at(i + 2) - at(i + 1)];
}

describe('edge intervals', () => {
  it('the check after a change comes at the edge interval, the next at the steady one', async () => {
    await until('the first check', () => edges.checks.length >= 1, { everyMs: 10 });
    // Listeners bind once both clusters had their first health-check round.
    await proxy.waitReady();
    // Traffic ends the no-traffic intervals.
    expect((await get(proxy.listenerAddress('http')?.port ?? 0, '/')).text).toBe('app');
    const from = edges.checks.length;
    edges.health = 503;
    await until(
      'three failed checks',
      () => edges.checks.slice(from).filter((c) => c.status === 503).length >= 3,
      { everyMs: 10 },
    );
    const [edgeDown, steadyDown] = gapsAfterFirst(edges, 503, from);
    expect(edgeDown).toBeLessThan(200);
    expect(steadyDown).toBeGreaterThanOrEqual(380);

    const back = edges.checks.length;
    edges.health = 200;
    await until(
      'three passed checks',
      () => edges.checks.slice(back).filter((c) => c.status === 200).length >= 3,
      { everyMs: 10 },
    );
    const [edgeUp, steadyUp] = gapsAfterFirst(edges, 200, back);
    expect(edgeUp).toBeLessThan(200);
    expect(steadyUp).toBeGreaterThanOrEqual(380);
  });
});

describe('no_traffic_healthy_interval', () => {
  it('spaces the checks of a healthy host of an untouched cluster by it, of an unhealthy one by no_traffic_interval', async () => {
    await until('three checks', () => quiet.checks.length >= 3, { everyMs: 10 });
    const failing = quiet.checks.slice(0, 3).map((c) => c.at);
    expect((failing[2] ?? 0) - (failing[0] ?? 0)).toBeLessThan(400);
    const from = quiet.checks.length;
    quiet.health = 200;
    await until(
      'two passed checks',
      () => quiet.checks.slice(from).filter((c) => c.status === 200).length >= 2,
      { everyMs: 10 },
    );
    const [next] = gapsAfterFirst(quiet, 200, from);
    expect(next).toBeGreaterThanOrEqual(480);
  });
});

// The status server on loopback: readiness from the proxy admin, rewritten HTTP / TCP / gRPC app
// probes against real servers (gRPC health from the independent grpc-health-check package), and
// merged metrics.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyReadiness, startStatusServer, type RunningStatus } from '../src/status/status-server.js';

async function listen(server: http.Server | net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return (server.address() as AddressInfo).port;
}

describe('status server', () => {
  let adminLive = false;
  let appReady = true;
  // A stand-in for the proxy's admin interface (/ready and /stats/prometheus, as Envoy serves them).
  const fakeAdmin = http.createServer((req, res) => {
    if (req.url === '/ready')
      res.writeHead(adminLive ? 200 : 503).end(adminLive ? 'LIVE\n' : 'PRE_INITIALIZING\n');
    else if (req.url === '/stats/prometheus') res.end('istio_requests_total{reporter="destination"} 3\n');
    else res.writeHead(404).end();
  });
  const app = http.createServer((req, res) => {
    if (req.url === '/ready') res.writeHead(appReady ? 200 : 500).end(req.headers['x-probe'] ?? '');
    else if (req.url === '/metrics') res.end('app_hits_total 7\n');
    else res.writeHead(404).end();
  });
  const tcpApp = net.createServer((s) => s.end());
  const grpcApp = new grpc.Server();
  const health = new HealthImplementation({ '': 'SERVING', sick: 'NOT_SERVING' });
  let status: RunningStatus;
  let base: string;

  beforeAll(async () => {
    const adminPort = await listen(fakeAdmin);
    const appPort = await listen(app);
    const tcpPort = await listen(tcpApp);
    health.addToServer(grpcApp);
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcApp.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    status = await startStatusServer({
      host: '127.0.0.1',
      port: 0,
      readiness: proxyReadiness(`http://127.0.0.1:${adminPort}`),
      appHost: '127.0.0.1',
      probers: {
        '/app-health/web/readyz': {
          httpGet: { path: '/ready', port: appPort, httpHeaders: [{ name: 'x-probe', value: 'k' }] },
        },
        '/app-health/web/livez': { tcpSocket: { port: tcpPort } },
        '/app-health/rpc/readyz': { grpc: { port: grpcPort } },
        '/app-health/rpc/livez': { grpc: { port: grpcPort, service: 'sick' } },
        '/app-health/gone/livez': { tcpSocket: { port: 1 } },
      },
      metricsSources: [
        `http://127.0.0.1:${adminPort}/stats/prometheus`,
        `http://127.0.0.1:${appPort}/metrics`,
      ],
      agentMetrics: () => 'skein_agent_up 1\n',
    });
    base = `http://127.0.0.1:${status.port}`;
  });
  afterAll(async () => {
    await status.close();
    fakeAdmin.close();
    app.close();
    tcpApp.close();
    grpcApp.forceShutdown();
  });

  const get = async (path: string) => {
    const r = await fetch(base + path);
    return { code: r.status, body: await r.text() };
  };

  it('is ready only once the proxy reports LIVE', async () => {
    expect(await get('/healthz/ready')).toEqual({ code: 503, body: 'proxy: PRE_INITIALIZING\n' });
    adminLive = true;
    expect((await get('/healthz/ready')).code).toBe(200);
  });

  it('runs rewritten HTTP, TCP and gRPC probes', async () => {
    expect(await get('/app-health/web/readyz')).toEqual({ code: 200, body: 'HTTP 200\n' });
    appReady = false;
    expect((await get('/app-health/web/readyz')).code).toBe(500);
    appReady = true;
    expect((await get('/app-health/web/livez')).code).toBe(200);
    expect(await get('/app-health/rpc/readyz')).toEqual({ code: 200, body: 'SERVING\n' });
    expect((await get('/app-health/rpc/livez')).code).toBe(503);
    expect((await get('/app-health/gone/livez')).code).toBe(503);
    expect((await get('/app-health/nope/livez')).code).toBe(404);
  });

  it('merges agent, proxy and app metrics', async () => {
    const m = await get('/stats/prometheus');
    expect(m.body).toBe(
      'skein_agent_up 1\nistio_requests_total{reporter="destination"} 3\napp_hits_total 7\n',
    );
  });
});

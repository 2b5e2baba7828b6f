// Active health checks against real upstreams: HTTP (path, host, expected statuses, thresholds),
// TCP connect and send/receive, gRPC health v1, no_traffic_interval; unhealthy hosts get no
// traffic and show /failed_active_hc in /clusters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster, anyHostRoutes } from './helpers/upstreams.js';
import { freePort } from './helpers/free-port.js';

interface HcServer {
  name: string;
  port: number;
  /** Status of /healthz. */
  health: number;
  checks: { path: string; host: string; agent: string; at: number }[];
  served: number;
  server: http.Server;
}

async function startHcServer(name: string): Promise<HcServer> {
  const s: HcServer = { name, port: 0, health: 200, checks: [], served: 0, server: http.createServer() };
  s.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/healthz') {
      s.checks.push({
        path: req.url,
        host: req.headers.host ?? '',
        agent: req.headers['user-agent'] ?? '',
        at: Date.now(),
      });
      res.writeHead(s.health).end();
      return;
    }
    s.served++;
    res.end(name);
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  s.port = (s.server.address() as net.AddressInfo).port;
  return s;
}

/** A TCP server answering "PING" with `reply`. */
async function startTcp(reply: string): Promise<net.Server> {
  const srv = net.createServer((c) => {
    c.on('data', (d: Buffer) => {
      if (d.toString().includes('PING')) c.write(reply);
    });
    c.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

/** A gRPC server whose grpc.health.v1.Health/Check answers `status` (1 SERVING, 2 NOT_SERVING). */
async function startGrpcHealth(
  status: number,
  seen: string[],
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const id = (b: Buffer): Buffer => b;
  server.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    },
    {
      Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        // HealthCheckRequest.service (field 1).
        seen.push(call.request.length > 2 ? call.request.subarray(2).toString() : '');
        cb(null, Buffer.from([0x08, status]));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}

let a: HcServer;
let b: HcServer;
let quiet: HcServer;
let pong: net.Server;
let wrong: net.Server;
let grpcOk: { server: grpc.Server; port: number };
let grpcBad: { server: grpc.Server; port: number };
const grpcSeen: string[] = [];
let closedPort: number;
let proxy: RunningProxy;
let port: number;

const hex = (s: string): string => Buffer.from(s).toString('hex');

beforeAll(async () => {
  [a, b, quiet] = await Promise.all([startHcServer('a'), startHcServer('b'), startHcServer('quiet')]);
  pong = await startTcp('PONG');
  wrong = await startTcp('NOPE');
  grpcOk = await startGrpcHealth(1, grpcSeen);
  grpcBad = await startGrpcHealth(2, grpcSeen);
  closedPort = await freePort();
  const tcpPort = (s: net.Server): number => (s.address() as net.AddressInfo).port;
  const fast = { timeout: '1s', interval: '0.05s', no_traffic_interval: '0.05s' };
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener(
            'http',
            anyHostRoutes([
              { match: { prefix: '/quiet' }, route: { cluster: 'quiet' } },
              { match: { prefix: '/' }, route: { cluster: 'web' } },
            ]),
          ),
        ],
        clusters: [
          staticCluster('web', [a.port, b.port], {
            health_checks: [
              {
                ...fast,
                unhealthy_threshold: 2,
                healthy_threshold: 2,
                http_health_check: {
                  path: '/healthz',
                  host: 'hc.example',
                  expected_statuses: [{ start: 200, end: 300 }],
                },
              },
            ],
          }),
          staticCluster('tcp-connect', [tcpPort(pong), closedPort], {
            health_checks: [{ ...fast, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }],
          }),
          staticCluster('tcp-payload', [tcpPort(pong), tcpPort(wrong)], {
            health_checks: [
              {
                ...fast,
                unhealthy_threshold: 1,
                healthy_threshold: 1,
                tcp_health_check: { send: { text: hex('PING') }, receive: [{ text: hex('PONG') }] },
              },
            ],
          }),
          staticCluster('grpc', [grpcOk.port, grpcBad.port], {
            health_checks: [
              {
                ...fast,
                unhealthy_threshold: 1,
                healthy_threshold: 1,
                grpc_health_check: { service_name: 'reviews' },
              },
            ],
          }),
          staticCluster('quiet', [quiet.port], {
            health_checks: [
              {
                timeout: '1s',
                interval: '0.05s',
                no_traffic_interval: '2s',
                unhealthy_threshold: 1,
                healthy_threshold: 1,
                http_health_check: { path: '/healthz' },
              },
            ],
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
  // Listeners bind once the start is over: every static cluster had its first health-check round.
  await proxy.waitReady();
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  for (const s of [a, b, quiet]) {
    s?.server.closeAllConnections();
    await new Promise<void>((r) => s?.server.close(() => r()));
  }
  for (const s of [pong, wrong]) await new Promise<void>((r) => s?.close(() => r()));
  grpcOk?.server.forceShutdown();
  grpcBad?.server.forceShutdown();
});

async function clusters(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/clusters`)).text();
}

/** Waits until /clusters shows this host line (the test's timeout bounds it). */
async function waitFlag(cluster: string, hostPort: number, flags: string): Promise<void> {
  const line = `${cluster}::127.0.0.1:${hostPort}::health_flags::${flags}\n`;
  while (!(await clusters()).includes(line)) await new Promise((r) => setTimeout(r, 20));
}

describe('HTTP health checks', () => {
  it('check the path with the configured host and mark both hosts healthy', async () => {
    await waitFlag('web', a.port, 'healthy');
    await waitFlag('web', b.port, 'healthy');
    expect(a.checks[0]).toMatchObject({ path: '/healthz', host: 'hc.example', agent: 'Envoy/HC' });
    expect(proxy.stats.value('cluster.web.health_check.success')).toBeGreaterThanOrEqual(2);
  });

  it('a 2xx other than 200 is within expected_statuses', async () => {
    a.health = 204;
    const before = proxy.stats.value('cluster.web.health_check.failure');
    const n = a.checks.length;
    while (a.checks.length < n + 3) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.stats.value('cluster.web.health_check.failure')).toBe(before);
    a.health = 200;
  });

  it('takes an unhealthy host out of load balancing after unhealthy_threshold failures, and back', async () => {
    b.health = 503;
    await waitFlag('web', b.port, '/failed_active_hc');
    const failedAt = b.checks.length;
    b.served = 0;
    a.served = 0;
    for (let i = 0; i < 10; i++) expect((await get(port, '/x')).text).toBe('a');
    expect(b.served).toBe(0);
    // It took two failing checks (unhealthy_threshold 2).
    expect(failedAt).toBeGreaterThanOrEqual(2);
    b.health = 200;
    const recovering = b.checks.length;
    await waitFlag('web', b.port, 'healthy');
    expect(b.checks.length - recovering).toBeGreaterThanOrEqual(2); // healthy_threshold 2
    for (let i = 0; i < 10; i++) await get(port, '/x');
    expect(b.served).toBeGreaterThan(0);
  });
});

describe('TCP and gRPC health checks', () => {
  it('TCP connect: a closed port is unhealthy, a listening one healthy', async () => {
    const pongPort = (pong.address() as net.AddressInfo).port;
    await waitFlag('tcp-connect', pongPort, 'healthy');
    await waitFlag('tcp-connect', closedPort, '/failed_active_hc');
  });

  it('TCP send/receive: only the host answering the expected payload is healthy', async () => {
    await waitFlag('tcp-payload', (pong.address() as net.AddressInfo).port, 'healthy');
    await waitFlag('tcp-payload', (wrong.address() as net.AddressInfo).port, '/failed_active_hc');
  });

  it('gRPC health v1: SERVING is healthy, NOT_SERVING is not; the service name is sent', async () => {
    await waitFlag('grpc', grpcOk.port, 'healthy');
    await waitFlag('grpc', grpcBad.port, '/failed_active_hc');
    expect(grpcSeen).toContain('reviews');
    const json = (await (
      await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/clusters?format=json`)
    ).json()) as {
      cluster_statuses: {
        name: string;
        host_statuses: {
          address: { socket_address: { port_value: number } };
          health_status: Record<string, unknown>;
        }[];
      }[];
    };
    const g = json.cluster_statuses.find((c) => c.name === 'grpc');
    const bad = g?.host_statuses.find((h) => h.address.socket_address.port_value === grpcBad.port);
    expect(bad?.health_status['failed_active_health_check']).toBe(true);
  });
});

describe('no_traffic_interval', () => {
  it('spaces checks by no_traffic_interval until the cluster carries traffic, then by interval', async () => {
    // interval 0.05 s, no_traffic_interval 2 s: without traffic the second check waits 2 s.
    while (quiet.checks.length < 2) await new Promise((r) => setTimeout(r, 20));
    const [c1, c2] = quiet.checks.map((c) => c.at);
    expect((c2 ?? 0) - (c1 ?? 0)).toBeGreaterThanOrEqual(1900);
    expect((await get(port, '/quiet')).text).toBe('quiet');
    // The next check may still be 2 s out (if it was scheduled before the traffic); the ones
    // after it come at the short interval.
    while (quiet.checks.length < 6) await new Promise((r) => setTimeout(r, 20));
    const t = quiet.checks.map((c) => c.at);
    expect((t[5] ?? 0) - (t[4] ?? 0)).toBeLessThan(1500);
    expect((t[4] ?? 0) - (t[3] ?? 0)).toBeLessThan(1500);
  });
});

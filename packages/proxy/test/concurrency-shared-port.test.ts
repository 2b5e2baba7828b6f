// `--concurrency 2` with port-0 listeners (the built binary): as Envoy binds a port 0 once and every
// worker accepts on the port it got, the primary binds first and the worker thread binds the same
// port (SO_REUSEPORT) — for a static listener and for one added over LDS after the start.
// `/listeners` reports that port, and both threads' connection counters grow on it.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeUrl } from '@skein/api-types';
import { startTestAdsServer } from '../src/index.js';
import { anyHostRoutes, get, httpListener } from './helpers/upstreams.js';
import { adsBootstrap, rdsListener } from './helpers/xds-resources.js';
import { until } from './helpers/until.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'skein-proxy');
const built = existsSync(join(import.meta.dirname, '..', 'dist', 'main.js'));

const cleanup = cleanupAfterEach();

const direct = (body: string) => [
  { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } } },
];

/** Stops the last binary started (SIGTERM; resolves once it exited). */
let stopProxy: () => Promise<void> = async () => {};

/** Starts the binary; resolves with its admin port once its start line is printed. */
async function spawnProxy(bootstrap: unknown, stderr: string[] = []): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-proxy-shared-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bootstrap.json'), JSON.stringify(bootstrap));
  const proc: ChildProcess = spawn(
    bin,
    ['-c', join(dir, 'bootstrap.json'), '--concurrency', '2', '--log-level', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  stopProxy = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  cleanup.push(stopProxy);
  return new Promise<number>((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      stderr.push(d.toString());
      const m = /started with 2 workers, admin on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`skein-proxy exited ${code}: ${err}`)));
  });
}

describe.skipIf(!built)('--concurrency 2: port-0 listeners share the one port', () => {
  it('static and LDS listeners: both workers accept on the port /listeners reports', async () => {
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    ads.set(TypeUrl.Cluster, [], 'c1');
    ads.set(TypeUrl.Listener, [], 'l1');
    const bootstrap = adsBootstrap(ads.port, {
      staticResources: {
        ...(adsBootstrap(ads.port) as { staticResources: object }).staticResources,
        listeners: [httpListener('static', anyHostRoutes(direct('static')), {}, { stat_prefix: 'static' })],
      },
    });
    const admin = await spawnProxy(bootstrap);
    const adminGet = async (path: string) => fetch(`http://127.0.0.1:${admin}${path}`);
    await until('ready', async () => (await adminGet('/ready')).status === 200);
    const ports = async (): Promise<Map<string, number>> => {
      const j = (await (await adminGet('/listeners?format=json')).json()) as {
        listener_statuses: { name: string; local_address: { socket_address: { port_value: number } } }[];
      };
      return new Map(j.listener_statuses.map((l) => [l.name, l.local_address.socket_address.port_value]));
    };
    const perWorker = async (prefix: string): Promise<[number, number]> => {
      const s = await (await adminGet('/stats')).text();
      const n = (w: number) =>
        Number(
          new RegExp(`listener\\.${prefix}\\.worker_${w}\\.downstream_cx_total: (\\d+)`).exec(s)?.[1] ?? 0,
        );
      return [n(0), n(1)];
    };
    /**
     * New connections until each worker has accepted some (the kernel spreads them by 4-tuple:
     * with two sockets listening, 200 all landing on one is a 2^-199 chance); every one is answered.
     */
    const spread = async (port: number, prefix: string, body: string) => {
      let total = 0;
      for (; total < 200; total++) {
        const r = await get(port, '/', { connection: 'close' });
        expect(r.status).toBe(200);
        expect(r.text).toBe(body);
        if (total >= 10 && (await perWorker(prefix)).every((n) => n > 0)) break;
      }
      const [w0, w1] = await perWorker(prefix);
      expect(w0).toBeGreaterThan(0);
      expect(w1).toBeGreaterThan(0);
    };

    const staticPort = (await ports()).get('static');
    expect(staticPort).toBeGreaterThan(0);
    await spread(staticPort!, 'static', 'static');

    // A port-0 listener added over LDS after the start: the worker binds the primary's port too.
    const routes = { name: 'r1', virtualHosts: [{ name: 'all', domains: ['*'], routes: direct('lds') }] };
    ads.set(TypeUrl.RouteConfiguration, [routes], 'r1');
    ads.set(TypeUrl.Listener, [rdsListener('lds', 0, 'r1', { statPrefix: 'lds' })], 'l2');
    await until('the LDS listener', async () => (await ports()).has('lds'));
    const ldsPort = (await ports()).get('lds')!;
    expect(ldsPort).toBeGreaterThan(0);
    expect(ldsPort).not.toBe(staticPort);
    // (The worker thread applies the update just after the primary: until then the primary's
    // socket alone accepts, so the spread's first connections may all be the primary's.)
    await spread(ldsPort, 'lds', 'lds');
  });

  it('a Unix-socket listener is served by the primary alone (no SO_REUSEPORT for Unix sockets)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-proxy-pipe-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'l.sock');
    const listener = httpListener('pipe', anyHostRoutes(direct('pipe')), {}, { stat_prefix: 'pipe' });
    listener['address'] = { pipe: { path } };
    const stderr: string[] = [];
    const admin = await spawnProxy(
      {
        admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
        static_resources: { listeners: [listener] },
      },
      stderr,
    );
    await until('ready', async () => (await fetch(`http://127.0.0.1:${admin}/ready`)).status === 200);
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: path, path: '/', agent: false }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        })
        .once('error', reject);
    });
    expect(body).toBe('pipe');
    // The worker thread does not try to listen on the path the primary holds (EADDRINUSE before):
    // its stop runs after its end of the start (in order), so by its exit anything is logged.
    await stopProxy();
    expect(stderr.join('')).not.toMatch(/failed to start|EADDRINUSE/);
  });
});

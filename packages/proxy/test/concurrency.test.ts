// `--concurrency 2` (the built binary): both worker threads accept connections on the shared
// port, and a route switch forwarded from the primary is never seen half-applied — every response
// pairs the new route's header with the new cluster, or the old with the old.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeUrl } from '@skein/api-types';
import { startTestAdsServer, type TestAdsServer } from '../src/index.js';
import { get, startEcho, type Echo } from './helpers/upstreams.js';
import { adsBootstrap, assignment, edsCluster, rdsListener } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'skein-proxy');
const built = existsSync(join(import.meta.dirname, '..', 'dist', 'main.js'));

function route(version: string, cluster: string): Record<string, unknown> {
  return {
    name: 'r1',
    virtualHosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/' },
            route: { cluster },
            responseHeadersToAdd: [{ header: { key: 'x-route-version', value: version } }],
          },
        ],
      },
    ],
  };
}

let a: Echo;
let b: Echo;
let ads: TestAdsServer;
let proc: ChildProcess;
let dir: string;
let port: number;
let adminPort: number;

async function stats(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text();
}

// Skipped only when the package is not built (nx builds it before its tests).
describe.skipIf(!built)('--concurrency 2', () => {
  beforeAll(async () => {
    a = await startEcho('a');
    b = await startEcho('b');
    ads = await startTestAdsServer();
    port = await freePort();
    adminPort = await freePort();
    ads.set(TypeUrl.Cluster, [edsCluster('svc-a'), edsCluster('svc-b')]);
    ads.set(TypeUrl.ClusterLoadAssignment, [assignment('svc-a', [a.port]), assignment('svc-b', [b.port])]);
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')]);
    ads.set(TypeUrl.RouteConfiguration, [route('1', 'svc-a')]);
    dir = mkdtempSync(join(tmpdir(), 'skein-proxy-conc-'));
    const bootstrap = adsBootstrap(ads.port, {
      admin: { address: { socketAddress: { address: '127.0.0.1', portValue: adminPort } } },
    });
    writeFileSync(join(dir, 'bootstrap.json'), JSON.stringify(bootstrap));
    proc = spawn(bin, ['-c', join(dir, 'bootstrap.json'), '--concurrency', '2', '--log-level', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Started: the binary prints its start line once the primary is up.
    await new Promise<void>((resolve, reject) => {
      let err = '';
      proc.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('started with 2 workers')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`skein-proxy exited ${code}: ${err}`)));
    });
    // Ready: the first full configuration is in.
    while ((await fetch(`http://127.0.0.1:${adminPort}/ready`)).status !== 200)
      await new Promise((r) => setTimeout(r, 20));
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await ads?.close();
    await a?.close();
    await b?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves from both worker threads on one port', async () => {
    // New connections each time: SO_REUSEPORT spreads them by the connection's 4-tuple.
    for (let i = 0; i < 60; i++) {
      const r = await get(port, '/', { connection: 'close' });
      expect(r.status).toBe(200);
    }
    const s = await stats();
    const w0 = Number(/listener\.127\.0\.0\.1:\d+\.worker_0\.downstream_cx_total: (\d+)/.exec(s)?.[1] ?? 0);
    const w1 = Number(/listener\.127\.0\.0\.1:\d+\.worker_1\.downstream_cx_total: (\d+)/.exec(s)?.[1] ?? 0);
    expect(w0).toBeGreaterThan(0);
    expect(w1).toBeGreaterThan(0);
    expect(w0 + w1).toBe(60);
  });

  it('switches configuration on every worker without a half-applied request', async () => {
    const seen = new Set<string>();
    let stop = false;
    let afterSwitch = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const r = await get(port, '/', { connection: 'close' });
        const pair = `${String(r.headers['x-route-version'])}/${JSON.parse(r.text).name as string}`;
        seen.add(pair);
        if (pair === '2/b') afterSwitch++;
        if (afterSwitch >= 40) stop = true;
      }
    });
    ads.set(TypeUrl.RouteConfiguration, [route('2', 'svc-b')]);
    await Promise.all(loops);
    expect([...seen].every((p) => p === '1/a' || p === '2/b')).toBe(true);
    expect(seen.has('2/b')).toBe(true);
    // After the switch both workers serve the new route.
    const before = await stats();
    const count = (s: string, w: number): number =>
      Number(new RegExp(`worker_${w}\\.downstream_cx_total: (\\d+)`).exec(s)?.[1] ?? 0);
    const b0 = count(before, 0);
    const b1 = count(before, 1);
    const pairs = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await get(port, '/', { connection: 'close' });
      pairs.add(`${String(r.headers['x-route-version'])}/${JSON.parse(r.text).name as string}`);
    }
    const after = await stats();
    expect(count(after, 0)).toBeGreaterThan(b0);
    expect(count(after, 1)).toBeGreaterThan(b1);
    expect([...pairs]).toEqual(['2/b']);
  });
});

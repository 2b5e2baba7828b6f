// SDS initial_fetch_timeout with `--concurrency 2` (the built binary): the primary's timeout reaches
// the worker thread, so both threads' listeners serve without the secret (every handshake fails,
// on both threads) instead of the worker's staying unbound; once the secret arrives both serve it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeUrl } from '@skein/api-types';
import { startTestAdsServer, type TestAdsServer } from '../src/index.js';
import { httpListener } from './helpers/upstreams.js';
import { adsBootstrap } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';
import { handshake } from './helpers/tls-handshake.js';
import { withSdsCertificate } from './helpers/downstream-tls.js';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'skein-proxy');
const built = existsSync(join(import.meta.dirname, '..', 'dist', 'main.js'));
const SECRET = 'kubernetes://late';

let ads: TestAdsServer;
let pki: TestPki;
let proc: ChildProcess;
let dir: string;
let port: number;
let adminPort: number;

/** Whether a TLS handshake on the listener gets a certificate. */
const served = async (): Promise<boolean> => (await handshake(port)).fingerprint !== undefined;

async function counters(): Promise<{ w0: number; w1: number; notReady: number }> {
  const s = await (await fetch(`http://127.0.0.1:${adminPort}/stats`)).text();
  const n = (re: RegExp): number => Number(re.exec(s)?.[1] ?? 0);
  return {
    w0: n(/listener\.tls\.worker_0\.downstream_cx_total: (\d+)/),
    w1: n(/listener\.tls\.worker_1\.downstream_cx_total: (\d+)/),
    notReady: n(/listener\.tls\.ssl\.secrets_not_ready: (\d+)/),
  };
}

describe.skipIf(!built || !hasOpenssl())('SDS initial_fetch_timeout on worker threads', () => {
  beforeAll(async () => {
    pki = makePki();
    ads = await startTestAdsServer();
    port = await freePort();
    adminPort = await freePort();
    const l = httpListener(
      'tls',
      { name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [] }] },
      {},
      { stat_prefix: 'tls', address: { socket_address: { address: '127.0.0.1', port_value: port } } },
    );
    const sdsConfig = { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0.2s' };
    ads.set(TypeUrl.Cluster, []);
    ads.set(TypeUrl.Listener, [withSdsCertificate(l, SECRET, sdsConfig)]);
    dir = mkdtempSync(join(tmpdir(), 'skein-proxy-sds-workers-'));
    const bootstrap = adsBootstrap(ads.port, {
      admin: { address: { socketAddress: { address: '127.0.0.1', portValue: adminPort } } },
    });
    writeFileSync(join(dir, 'bootstrap.json'), JSON.stringify(bootstrap));
    proc = spawn(bin, ['-c', join(dir, 'bootstrap.json'), '--concurrency', '2', '--log-level', 'error'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`skein-proxy exited ${code}: ${err}`))),
    );
    // Ready only once the secret's wait ran out (nothing else holds the start).
    const ready = (async () => {
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${adminPort}/ready`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await Promise.race([ready, exited]);
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await ads?.close();
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('both threads serve without the secret, then with it', async () => {
    // New connections each time: SO_REUSEPORT spreads them over both threads' sockets.
    for (let i = 0; i < 30; i++) expect(await served()).toBe(false);
    const before = await counters();
    expect(before.w0).toBeGreaterThan(0);
    expect(before.w1).toBeGreaterThan(0);
    expect(before.notReady).toBe(30);

    const leaf = pki.leaf('spiffe://cluster.local/ns/default/sa/gw');
    ads.set(TypeUrl.Secret, [
      {
        name: SECRET,
        tlsCertificate: {
          certificateChain: { inlineString: leaf.cert },
          privateKey: { inlineString: leaf.key },
        },
      },
    ]);
    // Both threads have the secret once several handshakes in a row succeed.
    let streak = 0;
    const deadline = Date.now() + 10_000;
    while (streak < 20 && Date.now() < deadline) streak = (await served()) ? streak + 1 : 0;
    expect(streak).toBe(20);
    const after = await counters();
    expect(after.w0).toBeGreaterThan(before.w0);
    expect(after.w1).toBeGreaterThan(before.w1);
  });
});

// Clusters waiting for their SDS secrets with `--concurrency 2` (the built binary): the worker
// thread's copy of a CDS cluster warms on the secret the primary forwards, so once the proxy is
// ready every request — on either thread — goes out with the client certificate (a cluster still
// warming on a thread would answer 503 NC, one without its certificate would fail its handshake).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeUrl } from '@skein/api-types';
import { startTestAdsServer } from '../src/index.js';
import { get } from './helpers/upstreams.js';
import { adsBootstrap, rdsListener, routeTo } from './helpers/xds-resources.js';
import { hasOpenssl, makePki } from './helpers/certs.js';
import { certSecret, rootSecret } from './helpers/sds-secrets.js';
import { mtlsCluster, tlsUpstream } from './helpers/tls-upstream.js';
import { until } from './helpers/until.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'skein-proxy');
const built = existsSync(join(import.meta.dirname, '..', 'dist', 'main.js'));
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
const CLUSTER = 'outbound|443||server.default.svc.cluster.local';

const cleanup = cleanupAfterEach();

describe.skipIf(!built || !hasOpenssl())('clusters warm until their SDS secrets on worker threads', () => {
  it('both threads send the first requests with the late certificate', async () => {
    const pki = makePki();
    cleanup.push(() => pki.cleanup());
    const upstream = await tlsUpstream(pki, pki.leaf(SERVER_ID));
    cleanup.push(() => upstream.close());
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    // Secrets over the ADS stream itself (`sds_config: { ads: {} }`), waited for forever.
    const overAds = { ads: {}, resourceApiVersion: 'V3', initialFetchTimeout: '0s' };
    ads.set(TypeUrl.Cluster, [mtlsCluster(CLUSTER, upstream.port, SERVER_ID, overAds)], 'c1');
    ads.set(TypeUrl.Listener, [rdsListener('http', 0, 'r1', { statPrefix: 'http' })], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', CLUSTER)], 'r1');

    const dir = mkdtempSync(join(tmpdir(), 'skein-proxy-cluster-sds-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bootstrap.json'), JSON.stringify(adsBootstrap(ads.port)));
    const proc = spawn(
      bin,
      ['-c', join(dir, 'bootstrap.json'), '--concurrency', '2', '--log-level', 'warning'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    cleanup.push(async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    });
    const admin = await new Promise<number>((resolve, reject) => {
      let err = '';
      proc.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /admin on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      proc.once('exit', (code) => reject(new Error(`skein-proxy exited ${code}: ${err}`)));
    });
    const adminGet = (path: string) => fetch(`http://127.0.0.1:${admin}${path}`);

    // The cluster asked for its secrets and warms on them: the start waits.
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.Secret && r.resourceNames.includes('default'));
    expect((await adminGet('/ready')).status).toBe(503);
    expect(await (await adminGet('/stats')).text()).toContain('cluster_manager.warming_clusters: 1');

    ads.set(TypeUrl.Secret, [certSecret(pki.leaf(CLIENT_ID)), rootSecret(pki)], 's1');
    await until('ready', async () => (await adminGet('/ready')).status === 200);
    const j = (await (await adminGet('/listeners?format=json')).json()) as {
      listener_statuses: { local_address: { socket_address: { port_value: number } } }[];
    };
    const port = j.listener_statuses[0]!.local_address.socket_address.port_value;
    const perWorker = async (): Promise<number[]> => {
      const s = await (await adminGet('/stats')).text();
      return [0, 1].map((w) =>
        Number(new RegExp(`listener\\.http\\.worker_${w}\\.downstream_cx_total: (\\d+)`).exec(s)?.[1] ?? 0),
      );
    };
    // New connections until both threads have served some (the kernel spreads them by 4-tuple).
    for (let i = 0; i < 200; i++) {
      const r = await get(port, '/', { connection: 'close' });
      expect(r.status).toBe(200);
      expect((JSON.parse(r.text) as { san: string }).san).toBe(`URI:${CLIENT_ID}`);
      if (i >= 10 && (await perWorker()).every((n) => n > 0)) break;
    }
    expect((await perWorker()).every((n) => n > 0)).toBe(true);
    expect(upstream.failures).toBe(0);
  });
});

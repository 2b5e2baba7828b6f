// Outlier detection on real upstreams: success-rate ejection among five hosts, failure-percentage
// ejection, and local-origin (connect failure) ejection with split_external_local_origin_errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { freePort } from './helpers/free-port.js';

let good: Echo[] = [];
let bad: Echo;
let proxy: RunningProxy;
let port: number;
let refusedPort: number;

const quiet = { consecutive_5xx: 1000, enforcing_consecutive_5xx: 0, max_ejection_percent: 50 };

beforeAll(async () => {
  good = await Promise.all([0, 1, 2, 3].map((i) => startEcho(`good${i}`)));
  bad = await startEcho('bad');
  bad.status = () => 503;
  refusedPort = await freePort();
  const route = (prefix: string, cluster: string): Record<string, unknown> => ({
    match: { prefix },
    route: { cluster },
  });
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', {
            name: 'r',
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routes: [route('/sr', 'sr'), route('/fp', 'fp'), route('/lo', 'lo')],
              },
            ],
          }),
        ],
        clusters: [
          staticCluster('sr', [...good.map((g) => g.port), bad.port], {
            outlier_detection: {
              ...quiet,
              interval: '0.25s',
              success_rate_minimum_hosts: 5,
              success_rate_request_volume: 5,
            },
          }),
          staticCluster('fp', [good[0]?.port ?? 0, bad.port], {
            outlier_detection: {
              ...quiet,
              interval: '0.25s',
              enforcing_success_rate: 0,
              failure_percentage_threshold: 50,
              failure_percentage_minimum_hosts: 2,
              failure_percentage_request_volume: 5,
              enforcing_failure_percentage: 100,
            },
          }),
          staticCluster('lo', [refusedPort, good[1]?.port ?? 0], {
            outlier_detection: {
              ...quiet,
              interval: '30s',
              split_external_local_origin_errors: true,
              consecutive_local_origin_failure: 2,
            },
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([...good.map((g) => g.close()), bad?.close()]);
});

/** Sends rounds of requests until `stat` counts an ejection (the test's timeout bounds it). */
async function driveUntilEjected(path: string, stat: string, perRound: number): Promise<void> {
  while (proxy.stats.value(stat) === 0) {
    await Promise.all(Array.from({ length: perRound }, () => get(port, path)));
  }
}

async function clustersText(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/clusters`)).text();
}

describe('outlier detection', () => {
  it('success rate: ejects the host far below the others once enough hosts have enough requests', async () => {
    await driveUntilEjected('/sr', 'cluster.sr.outlier_detection.ejections_enforced_success_rate', 25);
    // Not by consecutive 5xx: that is set out of reach.
    expect(proxy.stats.value('cluster.sr.outlier_detection.ejections_enforced_consecutive_5xx')).toBe(0);
    bad.requests.length = 0;
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(port, '/sr')).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(bad.requests).toHaveLength(0);
    expect(await clustersText()).toContain(`sr::127.0.0.1:${bad.port}::health_flags::/failed_outlier_check`);
  });

  it('failure percentage: ejects a host whose failures reach the threshold', async () => {
    await driveUntilEjected('/fp', 'cluster.fp.outlier_detection.ejections_enforced_failure_percentage', 10);
    expect(await clustersText()).toContain(`fp::127.0.0.1:${bad.port}::health_flags::/failed_outlier_check`);
    expect(proxy.stats.value('cluster.fp.outlier_detection.ejections_enforced_success_rate')).toBe(0);
  });

  it('split local-origin errors: consecutive connect failures eject the unreachable host', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(port, '/lo')).status);
    // Round robin: the unreachable host fails twice (503 UF), is ejected, the rest succeed.
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    expect(
      proxy.stats.value('cluster.lo.outlier_detection.ejections_enforced_consecutive_local_origin_failure'),
    ).toBe(1);
    expect(await clustersText()).toContain(
      `lo::127.0.0.1:${refusedPort}::health_flags::/failed_outlier_check`,
    );
  });
});

// Outlier detection on real upstreams: success-rate ejection among five hosts, failure-percentage
// ejection, and local-origin (connect failure) ejection with split_external_local_origin_errors;
// consecutive gateway failures detected but not enforced (Envoy's default enforcing 0); an
// ejected host returned by its next successful active health check, or kept out when
// successful_active_health_check_uneject_host is false; an ejection refused by
// max_ejection_percent counted as ejections_overflow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import {
  ADMIN,
  get,
  httpListener,
  startEcho,
  staticCluster,
  type Echo,
  anyHostRoutes,
} from './helpers/upstreams.js';
import { freePort } from './helpers/free-port.js';

let good: Echo[] = [];
let bad: Echo;
let bad2: Echo;
let proxy: RunningProxy;
let port: number;
let refusedPort: number;
/** 503 to traffic, 200 to /healthz. */
let flappy: Echo[] = [];

const quiet = { consecutive_5xx: 1000, enforcing_consecutive_5xx: 0, max_ejection_percent: 50 };

beforeAll(async () => {
  good = await Promise.all([0, 1, 2, 3].map((i) => startEcho(`good${i}`)));
  bad = await startEcho('bad');
  bad.status = () => 503;
  bad2 = await startEcho('bad2');
  bad2.status = () => 503;
  flappy = await Promise.all([startEcho('flappy0'), startEcho('flappy1')]);
  for (const f of flappy) f.status = (_n, req) => (req.url === '/healthz' ? 200 : 503);
  const checked = (uneject: boolean): Record<string, unknown> => ({
    outlier_detection: {
      consecutive_5xx: 1,
      base_ejection_time: '300s',
      interval: '30s',
      max_ejection_percent: 50,
      ...(uneject ? {} : { successful_active_health_check_uneject_host: false }),
    },
    health_checks: [
      {
        timeout: '1s',
        interval: '0.05s',
        no_traffic_interval: '0.05s',
        healthy_threshold: 1,
        unhealthy_threshold: 1,
        http_health_check: { path: '/healthz' },
      },
    ],
  });
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
          httpListener(
            'http',
            anyHostRoutes([
              route('/sr', 'sr'),
              route('/fp', 'fp'),
              route('/lo', 'lo'),
              route('/gw', 'gw'),
              route('/hc-uneject', 'hc-uneject'),
              route('/hc-kept', 'hc-kept'),
              route('/ov', 'ov'),
            ]),
          ),
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
          staticCluster('gw', [bad.port, good[2]?.port ?? 0], {
            outlier_detection: {
              consecutive_5xx: 1000,
              consecutive_gateway_failure: 2,
              interval: '30s',
              max_ejection_percent: 50,
            },
          }),
          staticCluster('hc-uneject', [flappy[0]?.port ?? 0, good[3]?.port ?? 0], checked(true)),
          staticCluster('hc-kept', [flappy[1]?.port ?? 0, good[3]?.port ?? 0], checked(false)),
          staticCluster('ov', [bad.port, bad2.port], {
            outlier_detection: { consecutive_5xx: 1, interval: '30s', max_ejection_percent: 50 },
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
  await Promise.all([
    ...good.map((g) => g.close()),
    ...flappy.map((f) => f.close()),
    bad?.close(),
    bad2?.close(),
  ]);
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

  it('consecutive gateway failures with enforcing 0: detected and counted, the host left in', async () => {
    bad.requests.length = 0;
    for (let i = 0; i < 6; i++) await get(port, '/gw');
    expect(
      proxy.stats.value('cluster.gw.outlier_detection.ejections_detected_consecutive_gateway_failure'),
    ).toBe(1);
    expect(proxy.stats.value('cluster.gw.outlier_detection.ejections_enforced_total')).toBe(0);
    expect(bad.requests).toHaveLength(3);
    expect(await clustersText()).not.toContain(
      `gw::127.0.0.1:${bad.port}::health_flags::/failed_outlier_check`,
    );
  });

  it('an ejection refused by max_ejection_percent counts ejections_overflow and leaves the host in', async () => {
    // Two failing hosts, 50 %: the first 503 ejects its host, the second (the other host) has no room.
    expect((await get(port, '/ov')).status).toBe(503);
    expect((await get(port, '/ov')).status).toBe(503);
    const stat = (s: string): number => proxy.stats.value(`cluster.ov.outlier_detection.${s}`);
    expect(stat('ejections_enforced_consecutive_5xx')).toBe(1);
    expect(stat('ejections_overflow')).toBe(1);
    expect(stat('ejections_detected_consecutive_5xx')).toBe(2);
    expect(stat('ejections_active')).toBe(1);
    const text = await clustersText();
    const flagged = [bad.port, bad2.port].filter((p) =>
      text.includes(`ov::127.0.0.1:${p}::health_flags::/failed_outlier_check`),
    );
    expect(flagged).toHaveLength(1);
    const prom = await (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/stats/prometheus`)).text();
    expect(prom).toMatch(/envoy_cluster_outlier_detection_ejections_overflow\{envoy_cluster_name="ov"\} 1/);
  });

  it('a successful active health check returns an ejected host (successful_active_health_check_uneject_host)', async () => {
    await waitUntil(async () =>
      (await clustersText()).includes(`hc-uneject::127.0.0.1:${flappy[0]?.port}::health_flags::healthy`),
    );
    await driveUntilEjected(
      '/hc-uneject',
      'cluster.hc-uneject.outlier_detection.ejections_enforced_consecutive_5xx',
      2,
    );
    // Ejected for 300 s, detection every 30 s: only the next health check (50 ms) can return it.
    await waitUntil(
      async () => proxy.stats.value('cluster.hc-uneject.outlier_detection.ejections_active') === 0,
    );
    expect(await clustersText()).toContain(`hc-uneject::127.0.0.1:${flappy[0]?.port}::health_flags::healthy`);
  });

  it('with successful_active_health_check_uneject_host false, passing checks leave it ejected', async () => {
    await waitUntil(async () =>
      (await clustersText()).includes(`hc-kept::127.0.0.1:${flappy[1]?.port}::health_flags::healthy`),
    );
    await driveUntilEjected(
      '/hc-kept',
      'cluster.hc-kept.outlier_detection.ejections_enforced_consecutive_5xx',
      2,
    );
    const f = flappy[1]!;
    const checks = (): number => f.requests.filter((r) => r.url === '/healthz').length;
    const from = checks();
    await waitUntil(async () => checks() >= from + 3);
    expect(proxy.stats.value('cluster.hc-kept.outlier_detection.ejections_active')).toBe(1);
    expect(await clustersText()).toContain(
      `hc-kept::127.0.0.1:${f.port}::health_flags::/failed_outlier_check`,
    );
  });
});

async function waitUntil(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20));
}

// Retries, outlier ejection, circuit breaking, timeouts and fault injection against real
// upstreams on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';

let flaky: Echo;
let good: Echo;
let bad: Echo;
let slow: http.Server;
let slowPort: number;
let releaseSlow: (() => void)[] = [];
let proxy: RunningProxy;
let port: number;

const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

beforeAll(async () => {
  flaky = await startEcho('flaky');
  good = await startEcho('good');
  bad = await startEcho('bad');
  bad.status = () => 503;
  // An upstream that holds each request until the test releases it.
  slow = http.createServer((_req, res) => {
    releaseSlow.push(() => res.end('slow done'));
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  slowPort = (slow.address() as AddressInfo).port;
  const routes = {
    name: 'r',
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/retry' },
            route: {
              cluster: 'flaky',
              retry_policy: { retry_on: '5xx', num_retries: 3, retry_back_off: { base_interval: '0.001s' } },
            },
          },
          {
            match: { prefix: '/prev' },
            route: {
              cluster: 'mixed',
              retry_policy: {
                retry_on: 'gateway-error',
                num_retries: 1,
                retry_host_predicate: [
                  {
                    name: 'envoy.retry_host_predicates.previous_hosts',
                    typed_config: {
                      '@type':
                        'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
                    },
                  },
                ],
                host_selection_retry_max_attempts: 3,
                retry_back_off: { base_interval: '0.001s' },
              },
            },
          },
          {
            match: { prefix: '/refused' },
            route: {
              cluster: 'refused',
              retry_policy: {
                retry_on: 'connect-failure',
                num_retries: 2,
                retry_back_off: { base_interval: '0.001s' },
              },
            },
          },
          { match: { prefix: '/outlier' }, route: { cluster: 'outlier' } },
          { match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: '0s' } },
          { match: { prefix: '/timeout' }, route: { cluster: 'slow', timeout: '0.2s' } },
          {
            match: { prefix: '/fault-abort' },
            route: { cluster: 'good' },
            typed_per_filter_config: {
              'envoy.filters.http.fault': {
                '@type': FAULT,
                abort: { http_status: 503, percentage: { numerator: 100 } },
              },
            },
          },
          {
            match: { prefix: '/fault-delay' },
            route: { cluster: 'good' },
            typed_per_filter_config: {
              'envoy.filters.http.fault': {
                '@type': FAULT,
                delay: { fixed_delay: '0.3s', percentage: { numerator: 100 } },
              },
            },
          },
          {
            match: { prefix: '/mirror' },
            route: { cluster: 'good', request_mirror_policies: [{ cluster: 'flaky' }] },
          },
          { match: { prefix: '/' }, route: { cluster: 'good' } },
        ],
      },
    ],
  };
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', routes, {
            http_filters: [
              {
                name: 'envoy.filters.http.fault',
                typed_config: { '@type': FAULT, abort: { header_abort: {}, percentage: { numerator: 100 } } },
              },
              {
                name: 'envoy.filters.http.router',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                },
              },
            ],
          }),
        ],
        clusters: [
          staticCluster('flaky', [flaky.port]),
          staticCluster('good', [good.port]),
          staticCluster('mixed', [bad.port, good.port], { lb_policy: 'ROUND_ROBIN' }),
          staticCluster('refused', [1]),
          staticCluster('outlier', [bad.port, good.port], {
            outlier_detection: {
              consecutive_5xx: 3,
              base_ejection_time: '30s',
              max_ejection_percent: 50,
              interval: '1s',
            },
          }),
          staticCluster('slow', [slowPort], {
            circuit_breakers: {
              thresholds: [{ max_connections: 1, max_pending_requests: 1, max_requests: 100 }],
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
  for (const r of releaseSlow) r();
  await proxy?.stop();
  await Promise.all([flaky?.close(), good?.close(), bad?.close()]);
  slow.closeAllConnections();
  await new Promise<void>((r) => slow.close(() => r()));
});

describe('retries', () => {
  it('retries 5xx until a try succeeds, with x-envoy-attempt-count on retries', async () => {
    flaky.requests.length = 0;
    flaky.status = (n) => (n <= 2 ? 503 : 200);
    const r = await get(port, '/retry');
    expect(r.status).toBe(200);
    expect(flaky.requests).toHaveLength(3);
    expect(flaky.requests[2]?.headers['x-envoy-attempt-count']).toBe('3');
    expect(proxy.stats.value('cluster.flaky.upstream_rq_retry')).toBeGreaterThanOrEqual(2);
  });

  it('returns the last response and flags URX when retries run out', async () => {
    flaky.requests.length = 0;
    flaky.status = () => 503;
    const r = await get(port, '/retry');
    expect(r.status).toBe(503);
    expect(flaky.requests).toHaveLength(4);
  });

  it('retries a POST body intact', async () => {
    flaky.requests.length = 0;
    flaky.status = (n) => (n === 1 ? 500 : 200);
    const r = await get(port, '/retry', { 'content-type': 'text/plain' }, 'POST', 'hello body');
    expect(r.status).toBe(200);
    expect(flaky.requests.map((x) => x.body)).toEqual(['hello body', 'hello body']);
  });

  it('moves to another host with the previous-hosts predicate', async () => {
    bad.requests.length = 0;
    good.requests.length = 0;
    for (let i = 0; i < 6; i++) expect((await get(port, '/prev')).status).toBe(200);
    // Every request that hit the bad host was retried on the good one, never the same host again.
    expect(good.requests.length).toBe(6);
    expect(bad.requests.length).toBeGreaterThan(0);
  });

  it('retries connect failures and answers 503 UF when all fail', async () => {
    const r = await get(port, '/refused');
    expect(r.status).toBe(503);
    expect(r.text).toContain('connection failure');
    expect(proxy.stats.value('cluster.refused.upstream_rq_retry')).toBe(2);
  });
});

describe('outlier detection', () => {
  it('ejects a host after consecutive 5xx so traffic goes to the healthy one', async () => {
    bad.requests.length = 0;
    good.requests.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(port, '/outlier')).status);
    // Round robin alternates: the bad host sees 3 requests, is ejected, the rest go to good.
    expect(bad.requests.length).toBe(3);
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    expect(proxy.stats.value('cluster.outlier.outlier_detection.ejections_enforced_total')).toBe(1);
    const clusters = await (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/clusters`)).text();
    expect(clusters).toContain(`outlier::127.0.0.1:${bad.port}::health_flags::/failed_outlier_check`);
  });
});

describe('circuit breaker', () => {
  it('overflows with 503 UO beyond max connections + pending', async () => {
    releaseSlow = [];
    const inflight = [get(port, '/slow'), get(port, '/slow')];
    // Wait until both reached the upstream (they are held there).
    while (releaseSlow.length < 1) await new Promise((r) => setImmediate(r));
    const third = await get(port, '/slow');
    expect(third.status).toBe(503);
    expect(third.text).toContain('overflow');
    for (const r of releaseSlow.splice(0)) r();
    // The pending request reaches the upstream once the first completes.
    const drain = setInterval(() => releaseSlow.splice(0).forEach((r) => r()), 5);
    const done = await Promise.all(inflight);
    clearInterval(drain);
    expect(done.map((d) => d.status)).toEqual([200, 200]);
    expect(proxy.stats.value('cluster.slow.upstream_rq_pending_overflow')).toBe(1);
  });

  it('answers 504 UT when the route timeout expires', async () => {
    releaseSlow = [];
    const started = Date.now();
    const r = await get(port, '/timeout');
    expect(r.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    for (const x of releaseSlow.splice(0)) x();
  });
});

describe('fault injection', () => {
  it('aborts by route-level fault config', async () => {
    const r = await get(port, '/fault-abort');
    expect(r.status).toBe(503);
    expect(r.text).toBe('fault filter abort');
    expect(proxy.stats.value('http.http.response_flag.FI')).toBeGreaterThanOrEqual(1);
  });

  it('delays by the configured fixed delay', async () => {
    const t0 = Date.now();
    const r = await get(port, '/fault-delay');
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(proxy.stats.value('http.http.response_flag.DI')).toBe(1);
  });

  it('aborts with the status the x-envoy-fault-abort-request header asks for', async () => {
    expect((await get(port, '/', { 'x-envoy-fault-abort-request': '429' })).status).toBe(429);
    expect((await get(port, '/')).status).toBe(200);
  });
});

describe('mirroring', () => {
  it('sends a copy to the mirror cluster with a -shadow host', async () => {
    flaky.requests.length = 0;
    flaky.status = () => 200;
    const r = await get(port, '/mirror', { host: 'svc.example' });
    expect(JSON.parse(r.text).name).toBe('good');
    while (flaky.requests.length === 0) await new Promise((res) => setTimeout(res, 5));
    expect(flaky.requests[0]?.headers.host).toBe('svc.example-shadow');
  });
});

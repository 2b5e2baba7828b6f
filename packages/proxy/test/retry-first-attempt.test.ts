// Istio's default retry policy (what skeind puts on every sidecar route): a bodiless request's first
// attempt runs on the router's fast path and joins the general retry loop only on a retriable
// outcome. Each scenario runs on the fast path (GET) and on the general path (POST with a body,
// buffered for replay) against twin clusters, and both must agree: status, per-cluster retry stats,
// the hosts tried, x-envoy-attempt-count, and the access log's flags and attempt count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startProxy, type RunningProxy } from '../src/index.js';
import {
  ADMIN,
  get,
  httpListener,
  startEcho,
  staticCluster,
  type Echo,
  type EchoRequest,
} from './helpers/upstreams.js';

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

/** Istio's default retry policy, as skeind's translation writes it. */
const ISTIO_RETRY = {
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: 2,
  retriable_status_codes: [503],
  retry_host_predicate: [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
      },
    },
  ],
  host_selection_retry_max_attempts: '5',
};

/** A port nothing listens on (connections refused). */
const REFUSED = 1;

let dir: string;
let good: Echo;
let flaky: Echo;
let bad: Echo;
/** Holds the first request of each path (never answers it), answers the others 200. */
let holding: http.Server;
const holdingSeen: { url: string; expected: string }[] = [];
let proxy: RunningProxy;
let port: number;

/** The upstreams' view of one request path: which echo saw it, with which attempt count header. */
function seen(path: string): string[] {
  const out: string[] = [];
  for (const e of [good, flaky, bad])
    for (const r of e.requests)
      if (r.url === path) out.push(`${e.name}:${String(r.headers['x-envoy-attempt-count'] ?? '-')}`);
  for (const r of holdingSeen) if (r.url === path) out.push(`holding:${r.expected}`);
  return out;
}

/** 503 the first time a path is seen, 200 after. */
function firstTime503(): (n: number, r: EchoRequest) => number {
  const seenPaths = new Set<string>();
  return (_n, r) => {
    if (seenPaths.has(r.url)) return 200;
    seenPaths.add(r.url);
    return 503;
  };
}

const STATS = [
  'upstream_rq_total',
  'upstream_rq_retry',
  'upstream_rq_retry_overflow',
  'upstream_cx_connect_fail',
  'upstream_rq_timeout',
];

function clusterStats(cluster: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of STATS) out[s] = proxy.stats.value(`cluster.${cluster}.${s}`);
  return out;
}

async function logLine(path: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(join(dir, 'access.log'), 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => l.startsWith(`${path} `));
    if (line) return line.slice(path.length + 1);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no access log line for ${path}`);
}

/** What the cluster still holds: circuit breaker requests and retries, hosts' active requests. */
function held(cluster: string): number {
  const c = proxy.clusters.get(cluster);
  if (!c) throw new Error(`no cluster ${cluster}`);
  let n = c.circuitBreaker.activeRequests + c.circuitBreaker.activeRetries;
  for (const h of c.hosts) n += h.activeRequests;
  return n;
}

interface Outcome {
  status: number;
  text: string;
  stats: Record<string, number>;
  seen: string[];
  log: string;
  /** Counts still held once the request is over and logged (must be 0). */
  held: number;
}

/** One request for `scenario` on the fast path (`f`, GET) or the general path (`g`, POST). */
async function run(path: 'f' | 'g', scenario: string, n: number): Promise<Outcome> {
  const url = `/${path}/${scenario}/${n}`;
  const r =
    path === 'f'
      ? await get(port, url)
      : await get(port, url, { 'content-type': 'text/plain' }, 'POST', 'body');
  const text = r.text.startsWith('{') ? String((JSON.parse(r.text) as { name: string }).name) : r.text;
  const log = await logLine(url);
  const cluster = `${path}-${scenario}`;
  return { status: r.status, text, stats: clusterStats(cluster), seen: seen(url), log, held: held(cluster) };
}

/** Runs the scenario `times` times on both paths; both must agree; returns the fast path's outcomes. */
async function both(scenario: string, times = 1): Promise<Outcome[]> {
  const fast: Outcome[] = [];
  for (let i = 1; i <= times; i++) {
    const f = await run('f', scenario, i);
    const g = await run('g', scenario, i);
    expect(f).toEqual(g);
    expect(f.held).toBe(0);
    fast.push(f);
  }
  return fast;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skein-retry1-'));
  good = await startEcho('good');
  flaky = await startEcho('flaky');
  flaky.status = firstTime503();
  bad = await startEcho('bad');
  bad.status = () => 503;
  holding = http.createServer((req, res) => {
    const url = req.url ?? '';
    const first = !holdingSeen.some((r) => r.url === url);
    holdingSeen.push({ url, expected: String(req.headers['x-envoy-expected-rq-timeout-ms'] ?? '-') });
    req.resume();
    if (!first) res.end('answered');
  });
  await new Promise<void>((r) => holding.listen(0, '127.0.0.1', r));
  const holdingPort = (holding.address() as AddressInfo).port;
  const scenarios: Record<string, number[]> = {
    ok: [good.port],
    flaky: [flaky.port],
    bad: [bad.port],
    half: [REFUSED, good.port],
    dead: [REFUSED],
  };
  const routes = [];
  const clusters = [];
  for (const path of ['f', 'g'])
    for (const [name, ports] of Object.entries(scenarios)) {
      routes.push({
        match: { prefix: `/${path}/${name}/` },
        route: { cluster: `${path}-${name}`, timeout: '0s', retry_policy: ISTIO_RETRY },
      });
      clusters.push(staticCluster(`${path}-${name}`, ports, { lb_policy: 'ROUND_ROBIN' }));
    }
  // A per-try timeout (retried under 5xx) inside a route timeout.
  for (const path of ['f', 'g']) {
    routes.push({
      match: { prefix: `/${path}/pertry/` },
      route: {
        cluster: `${path}-pertry`,
        timeout: '5s',
        retry_policy: { retry_on: '5xx', num_retries: 2, per_try_timeout: '0.1s' },
      },
    });
    clusters.push(staticCluster(`${path}-pertry`, [holdingPort]));
  }
  const accessLog = {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': FILE_LOG,
      path: join(dir, 'access.log'),
      log_format: {
        text_format_source: {
          inline_string:
            '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %UPSTREAM_HOST%\n',
        },
      },
    },
  };
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener(
            'http',
            { name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] },
            { access_log: [accessLog] },
          ),
        ],
        clusters,
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([good?.close(), flaky?.close(), bad?.close()]);
  holding?.closeAllConnections();
  await new Promise<void>((r) => (holding ? holding.close(() => r()) : r()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("Istio's default retry policy: the fast first attempt and the general path agree", () => {
  it('a first attempt that succeeds: one attempt, no retry, no flag', async () => {
    const [o] = await both('ok', 3).then((all) => all.slice(-1));
    expect(o?.status).toBe(200);
    expect(o?.text).toBe('good');
    expect(o?.stats).toMatchObject({ upstream_rq_total: 3, upstream_rq_retry: 0 });
    expect(o?.seen).toEqual(['good:-']);
    expect(o?.log).toBe(`200 - 1 127.0.0.1:${good.port}`);
  });

  it('a first attempt answered 503 (retriable status): retried once, the retry answers', async () => {
    const out = await both('flaky', 2);
    for (const o of out) {
      expect(o.status).toBe(200);
      expect(o.seen).toEqual(['flaky:-', 'flaky:2']);
      expect(o.log).toBe(`200 - 2 127.0.0.1:${flaky.port}`);
    }
    expect(out[1]?.stats).toMatchObject({ upstream_rq_total: 2, upstream_rq_retry: 2 });
  });

  it('503 on every attempt: two retries, the last 503 returned, flagged URX', async () => {
    const [o] = await both('bad');
    expect(o?.status).toBe(503);
    expect(o?.seen).toEqual(['bad:-', 'bad:2', 'bad:3']);
    expect(o?.stats).toMatchObject({ upstream_rq_total: 1, upstream_rq_retry: 2 });
    expect(o?.log).toBe(`503 URX 3 127.0.0.1:${bad.port}`);
  });

  it('a first attempt refused (connect failure): retried on the other host (previous hosts)', async () => {
    const out = await both('half', 2);
    for (const o of out) {
      expect(o.status).toBe(200);
      expect(o.text).toBe('good');
    }
    // Round robin starts on the refused host: at least the first request was retried.
    expect(out[0]?.seen).toEqual(['good:2']);
    expect(out[0]?.log).toBe(`200 - 2 127.0.0.1:${good.port}`);
    expect(out[1]?.stats.upstream_rq_retry).toBeGreaterThanOrEqual(1);
  });

  it('a first attempt past its per-try timeout: retried, the retry answers', async () => {
    const [o] = await both('pertry');
    expect(o?.status).toBe(200);
    expect(o?.text).toBe('answered');
    // The per-try timeout is what the upstream is told to expect, on each try.
    expect(o?.seen).toEqual(['holding:100', 'holding:100']);
    expect(o?.stats).toMatchObject({ upstream_rq_total: 1, upstream_rq_retry: 1, upstream_rq_timeout: 0 });
    expect(o?.log).toMatch(/^200 - 2 127\.0\.0\.1:\d+$/);
  });

  it('every attempt refused: 503 UF after two retries', async () => {
    const [o] = await both('dead');
    expect(o?.status).toBe(503);
    expect(o?.text).toContain('connection failure');
    expect(o?.stats).toMatchObject({
      upstream_rq_total: 1,
      upstream_rq_retry: 2,
      upstream_cx_connect_fail: 1,
    });
    expect(o?.log).toMatch(/^503 (URX,UF|UF,URX) 3 127\.0\.0\.1:1$/);
  });
});

// Behaviour of the HTTP path from a static bootstrap: route matching, rewrites, direct responses,
// redirects, weighted split, headers Envoy sets, admin endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';

let a: Echo;
let b: Echo;
let proxy: RunningProxy;
let port: number;

beforeAll(async () => {
  a = await startEcho('a');
  b = await startEcho('b');
  const routes = {
    name: 'local',
    virtual_hosts: [
      {
        name: 'exact',
        domains: ['reviews.example', 'reviews.example:80'],
        routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }],
      },
      {
        name: 'any',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/hdr', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] },
            route: { cluster: 'b' },
          },
          { match: { prefix: '/hdr' }, route: { cluster: 'a' } },
          { match: { path: '/direct' }, direct_response: { status: 418, body: { inline_string: 'teapot' } } },
          { match: { prefix: '/old' }, redirect: { path_redirect: '/new', response_code: 'FOUND' } },
          { match: { prefix: '/api/' }, route: { cluster: 'a', prefix_rewrite: '/v2/' } },
          {
            match: { safe_regex: { regex: '/items/[0-9]+' } },
            route: {
              cluster: 'b',
              regex_rewrite: { pattern: { regex: '^/items/([0-9]+)$' }, substitution: '/item?id=\\1' },
            },
          },
          {
            match: { prefix: '/q', query_parameters: [{ name: 'v', string_match: { exact: '2' } }] },
            route: { cluster: 'b' },
          },
          {
            match: { prefix: '/split' },
            route: {
              weighted_clusters: {
                clusters: [
                  { name: 'a', weight: 75 },
                  { name: 'b', weight: 25 },
                ],
              },
            },
          },
          { match: { prefix: '/missing' }, route: { cluster: 'nope' } },
          { match: { prefix: '/' }, route: { cluster: 'a', host_rewrite_literal: 'rewritten.example' } },
        ],
      },
    ],
  };
  proxy = await startProxy({
    node: { id: 'sidecar~127.0.0.1~test.default~default.svc.cluster.local', cluster: 'test' },
    admin: ADMIN,
    static_resources: {
      listeners: [httpListener('http', routes, { use_remote_address: true })],
      clusters: [staticCluster('a', [a.port]), staticCluster('b', [b.port])],
    },
  });
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await a?.close();
  await b?.close();
});

describe('routing from a static bootstrap', () => {
  it('routes by header match, falling through to the next route', async () => {
    expect(JSON.parse((await get(port, '/hdr', { 'end-user': 'jason' })).text).name).toBe('b');
    expect(JSON.parse((await get(port, '/hdr')).text).name).toBe('a');
  });

  it('forwards a field named like an Object.prototype member as it was sent', async () => {
    const r = JSON.parse((await get(port, '/hdr', { constructor: 'a', tostring: 'b' })).text);
    expect(r.headers).toMatchObject({ constructor: 'a', tostring: 'b' });
  });

  it('selects the virtual host by exact domain before the wildcard', async () => {
    const r = await get(port, '/x', { host: 'reviews.example' });
    expect(JSON.parse(r.text).name).toBe('b');
  });

  it('answers direct responses and redirects locally', async () => {
    const d = await get(port, '/direct');
    expect(d.status).toBe(418);
    expect(d.text).toBe('teapot');
    const r = await get(port, '/old?x=1', { host: 'h.example' });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('http://h.example/new?x=1');
  });

  it('rewrites prefixes, regexes and hosts', async () => {
    const p = JSON.parse((await get(port, '/api/thing?z=1')).text);
    expect(p.url).toBe('/v2/thing?z=1');
    expect(p.headers['x-envoy-original-path']).toBe('/api/thing?z=1');
    const r = JSON.parse((await get(port, '/items/42')).text);
    expect(r.name).toBe('b');
    expect(r.url).toBe('/item?id=42');
    const h = JSON.parse((await get(port, '/', { host: 'orig.example' })).text);
    expect(h.headers.host).toBe('rewritten.example');
  });

  it('matches query parameters', async () => {
    expect(JSON.parse((await get(port, '/q?v=2')).text).name).toBe('b');
    expect(JSON.parse((await get(port, '/q?v=1')).text).name).toBe('a');
  });

  it('sets x-request-id, x-forwarded-for/proto and x-envoy-upstream-service-time', async () => {
    const r = await get(port, '/');
    const seen = JSON.parse(r.text).headers;
    expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(r.headers['x-envoy-upstream-service-time']).toMatch(/^\d+$/);
    expect(r.headers['server']).toBe('envoy');
    const kept = JSON.parse((await get(port, '/', { 'x-request-id': 'abc' })).text).headers;
    expect(kept['x-request-id']).toBe('abc');
  });

  it('splits weighted clusters by relative weight', async () => {
    const counts: Record<string, number> = { a: 0, b: 0 };
    const n = 400;
    for (let i = 0; i < n; i++) {
      const name = JSON.parse((await get(port, '/split')).text).name as string;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    // 75/25 within a tolerance that fails a broken split with overwhelming probability.
    expect((counts['a'] ?? 0) / n).toBeGreaterThan(0.65);
    expect((counts['a'] ?? 0) / n).toBeLessThan(0.85);
  });

  it('answers 503 NC for a route to an unknown cluster and 404 NR when nothing matches', async () => {
    expect((await get(port, '/missing')).status).toBe(503);
    const stats = await (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/stats`)).text();
    expect(stats).toMatch(/http\.http\.response_flag\.NC: 1/);
  });

  it('serves admin endpoints', async () => {
    const base = `http://127.0.0.1:${proxy.adminAddress?.port}`;
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    const dump = (await (await fetch(`${base}/config_dump`)).json()) as {
      configs: { '@type': string; static_listeners?: unknown[]; static_clusters?: unknown[] }[];
    };
    const types = dump.configs.map((c) => c['@type'].split('.').pop());
    expect(types).toEqual([
      'BootstrapConfigDump',
      'ClustersConfigDump',
      'ListenersConfigDump',
      'RoutesConfigDump',
      'SecretsConfigDump',
    ]);
    expect(dump.configs[2]?.static_listeners).toHaveLength(1);
    expect(dump.configs[1]?.static_clusters).toHaveLength(2);
    const clusters = await (await fetch(`${base}/clusters`)).text();
    expect(clusters).toContain(`a::127.0.0.1:${a.port}::health_flags::healthy`);
    const prom = await (await fetch(`${base}/stats/prometheus`)).text();
    expect(prom).toMatch(/envoy_cluster_upstream_rq_total\{envoy_cluster_name="a"\} \d+/);
    const lg = await fetch(`${base}/logging?level=debug`, { method: 'POST' });
    expect(await lg.text()).toContain('skein: debug');
  });
});

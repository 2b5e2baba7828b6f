// CORS and header mutation, and route-level header add/remove, through a real proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';

let app: Echo;
let proxy: RunningProxy;
let port: number;
const F = 'type.googleapis.com/envoy.extensions.filters.http.';

beforeAll(async () => {
  app = await startEcho('app');
  const routes = {
    name: 'r',
    response_headers_to_add: [{ header: { key: 'x-config', value: 'rc' } }],
    virtual_hosts: [
      {
        name: 'v',
        domains: ['*'],
        request_headers_to_add: [
          { header: { key: 'x-vhost', value: 'yes' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
        typed_per_filter_config: {
          'envoy.filters.http.cors': {
            '@type': `${F}cors.v3.CorsPolicy`,
            allow_origin_string_match: [{ suffix: '.example.com' }],
            allow_methods: 'GET,POST',
            allow_headers: 'content-type',
            expose_headers: 'x-upstream',
            max_age: '600',
          },
        },
        routes: [
          {
            match: { prefix: '/' },
            route: { cluster: 'app' },
            request_headers_to_remove: ['x-secret'],
            response_headers_to_add: [{ header: { key: 'x-route', value: 'r1' } }],
            response_headers_to_remove: ['x-upstream-internal'],
          },
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
              { name: 'envoy.filters.http.cors', typed_config: { '@type': `${F}cors.v3.Cors` } },
              {
                name: 'envoy.filters.http.header_mutation',
                typed_config: {
                  '@type': `${F}header_mutation.v3.HeaderMutation`,
                  mutations: {
                    request_mutations: [{ append: { header: { key: 'x-mutated', value: 'req' } } }],
                    response_mutations: [{ append: { header: { key: 'x-mutated-resp', value: 'resp' } } }],
                  },
                },
              },
              { name: 'envoy.filters.http.router', typed_config: { '@type': `${F}router.v3.Router` } },
            ],
          }),
        ],
        clusters: [staticCluster('app', [app.port])],
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await app?.close();
});

describe('HTTP filters', () => {
  it('answers CORS preflights for allowed origins only', async () => {
    const ok = await get(
      port,
      '/x',
      { origin: 'https://a.example.com', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://a.example.com');
    expect(ok.headers['access-control-allow-methods']).toBe('GET,POST');
    expect(ok.headers['access-control-max-age']).toBe('600');
    const before = app.requests.length;
    const bad = await get(
      port,
      '/x',
      { origin: 'https://evil.org', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
    // A preflight from a foreign origin is not answered by the filter; it reaches the app.
    expect(app.requests.length).toBe(before + 1);
  });

  it('adds CORS headers to simple responses', async () => {
    const r = await get(port, '/x', { origin: 'https://b.example.com' });
    expect(r.headers['access-control-allow-origin']).toBe('https://b.example.com');
    expect(r.headers['access-control-expose-headers']).toBe('x-upstream');
  });

  it('mutates request and response headers at filter, route, virtual host and route config', async () => {
    const r = await get(port, '/x', { 'x-secret': 's', 'x-vhost': 'client' });
    const seen = JSON.parse(r.text).headers as Record<string, string>;
    expect(seen['x-mutated']).toBe('req');
    expect(seen['x-secret']).toBeUndefined();
    expect(seen['x-vhost']).toBe('yes');
    expect(r.headers['x-mutated-resp']).toBe('resp');
    expect(r.headers['x-route']).toBe('r1');
    expect(r.headers['x-config']).toBe('rc');
  });
});

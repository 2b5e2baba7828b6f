// jwt_authn with remote JWKS (two providers told apart by issuer): fetched through the cluster http_uri names (the URI's host does not
// even resolve), cached for cache_duration, and with async_fetch fetched before any request and
// refreshed in the background while the stale keys keep serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { jwk, token } from './helpers/jwt.js';
import { until } from './helpers/until.js';

const F = 'type.googleapis.com/envoy.extensions.filters.';
const ISS = 'https://sync.example';
const ISS_ASYNC = 'https://async.example';
let app: Echo;
let jwksServer: http.Server;
const fetches: { path: string; host: string; at: number }[] = [];
let proxy: RunningProxy;
let port: number;

const provider = (path: string, iss: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  issuer: iss,
  audiences: ['shop'],
  remote_jwks: {
    http_uri: { uri: `http://jwks.invalid${path}`, cluster: 'jwks', timeout: '2s' },
    ...extra,
  },
});

beforeAll(async () => {
  app = await startEcho('app');
  jwksServer = http.createServer((req, res) => {
    fetches.push({ path: req.url ?? '', host: req.headers.host ?? '', at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksPort = (jwksServer.address() as AddressInfo).port;
  const rule = (prefix: string): Record<string, unknown> => ({
    match: { prefix },
    requires: { requires_any: { requirements: [{ provider_name: 'sync' }, { provider_name: 'async' }] } },
  });
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener(
            'http',
            {
              name: 'r',
              virtual_hosts: [
                {
                  name: 'v',
                  domains: ['*'],
                  routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }],
                },
              ],
            },
            {
              http_filters: [
                {
                  name: 'envoy.filters.http.jwt_authn',
                  typed_config: {
                    '@type': `${F}http.jwt_authn.v3.JwtAuthentication`,
                    providers: {
                      sync: provider('/sync.json', ISS, { cache_duration: '0.3s' }),
                      async: provider('/async.json', ISS_ASYNC, { cache_duration: '0.3s', async_fetch: {} }),
                    },
                    rules: [rule('/')],
                  },
                },
                { name: 'envoy.filters.http.router', typed_config: { '@type': `${F}http.router.v3.Router` } },
              ],
            },
          ),
        ],
        clusters: [staticCluster('app', [app.port]), staticCluster('jwks', [jwksPort])],
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await app?.close();
  jwksServer.closeAllConnections();
  await new Promise<void>((r) => jwksServer.close(() => r()));
});

const count = (path: string): number => fetches.filter((f) => f.path === path).length;

describe('remote JWKS', () => {
  const good = token({ iss: ISS, sub: 'alice', aud: 'shop', exp: Math.floor(Date.now() / 1000) + 600 });
  const auth = { authorization: `Bearer ${good}` };
  const asyncToken = token({
    iss: ISS_ASYNC,
    sub: 'bob',
    aud: 'shop',
    exp: Math.floor(Date.now() / 1000) + 600,
  });

  it('async_fetch: fetched through the cluster before any request', async () => {
    await until('the async fetch', () => count('/async.json') >= 1, { everyMs: 10 });
    expect(count('/sync.json')).toBe(0);
    expect(fetches[0]?.host).toBe('jwks.invalid');
  });

  it('fetches on first use through the named cluster, then serves from the cache', async () => {
    expect((await get(port, '/sync/a', auth)).status).toBe(200);
    expect(count('/sync.json')).toBe(1);
    expect((await get(port, '/sync/b', auth)).status).toBe(200);
    expect(count('/sync.json')).toBe(1);
    expect((await get(port, '/sync/c')).status).toBe(401);
  });

  it('refetches once cache_duration has passed', async () => {
    const last = fetches.filter((f) => f.path === '/sync.json').at(-1)?.at ?? 0;
    await until('the cache to expire', () => Date.now() - last > 350, { everyMs: 10 });
    expect((await get(port, '/sync/d', auth)).status).toBe(200);
    expect(count('/sync.json')).toBe(2);
  });

  it('async_fetch: an expired entry keeps serving while it is refetched in the background', async () => {
    const before = count('/async.json');
    const last = fetches.filter((f) => f.path === '/async.json').at(-1)?.at ?? 0;
    await until('the cache to expire', () => Date.now() - last > 350, { everyMs: 10 });
    expect((await get(port, '/async/x', { authorization: `Bearer ${asyncToken}` })).status).toBe(200);
    await until('the background refetch', () => count('/async.json') >= before + 1, { everyMs: 10 });
  });
});

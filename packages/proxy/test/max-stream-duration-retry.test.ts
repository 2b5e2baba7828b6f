// An upstream request that reaches the cluster's max_stream_duration is reset and, as Envoy's
// router does (onStreamMaxDurationReached → maybeRetryReset), retried as a reset when the route's
// retry policy retries resets; without such a policy the client gets 504 UMSDR. Real sockets: the
// upstream holds the first request of each path and answers the next.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster } from './helpers/upstreams.js';

let upstream: http.Server;
let proxy: RunningProxy;
const held: http.ServerResponse[] = [];
const seen = new Map<string, number>();

function listener(name: string, retryOn?: string): Record<string, unknown> {
  const route = {
    cluster: 'msd',
    timeout: '5s',
    ...(retryOn ? { retry_policy: { retry_on: retryOn, num_retries: 2 } } : {}),
  };
  return httpListener(name, {
    name,
    virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route }] }],
  });
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const n = (seen.get(req.url ?? '') ?? 0) + 1;
    seen.set(req.url ?? '', n);
    if (n === 1) return void held.push(res); // never answered: the stream duration runs out
    res.end(`attempt ${n}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as AddressInfo).port;
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          listener('reset', 'reset'),
          listener('gateway', 'gateway-error'),
          listener('none', 'retriable-4xx'),
        ],
        clusters: [
          staticCluster('msd', [upPort], {
            typed_extension_protocol_options: {
              'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                common_http_protocol_options: { max_stream_duration: '0.2s' },
                explicit_http_config: { http_protocol_options: {} },
              },
            },
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
  await proxy.waitReady();
});

afterAll(async () => {
  for (const r of held.splice(0)) r.destroy();
  await proxy?.stop();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
});

const port = (name: string): number => proxy.listenerAddress(name)?.port ?? 0;

describe("max_stream_duration and the retry policy (as Envoy's router)", () => {
  it.each([
    ['reset', '/a'],
    ['gateway', '/b'],
  ])('retry_on %s: the attempt past the duration is retried as a reset', async (name, path) => {
    const retries = proxy.stats.value('cluster.msd.upstream_rq_retry');
    const reached = proxy.stats.value('cluster.msd.upstream_rq_max_duration_reached');
    const r = await get(port(name), path);
    expect(r).toMatchObject({ status: 200, text: 'attempt 2' });
    expect(seen.get(path)).toBe(2);
    expect(proxy.stats.value('cluster.msd.upstream_rq_retry')).toBe(retries + 1);
    expect(proxy.stats.value('cluster.msd.upstream_rq_max_duration_reached')).toBe(reached + 1);
  });

  it('a policy that does not retry resets answers 504 UMSDR', async () => {
    const retries = proxy.stats.value('cluster.msd.upstream_rq_retry');
    const r = await get(port('none'), '/c');
    expect(r.status).toBe(504);
    expect(r.text).toBe('upstream max stream duration reached');
    expect(seen.get('/c')).toBe(1);
    expect(proxy.stats.value('cluster.msd.upstream_rq_retry')).toBe(retries);
  });
});

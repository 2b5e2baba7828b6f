// envoy.tracers.zipkin: spans of requests through the proxy reach a local HTTP receiver as Zipkin
// v2 JSON, POSTed through the collector cluster with collector_hostname as Host, continuing the
// caller's B3 trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';

interface Post {
  path: string;
  host: string;
  contentType: string;
  spans: Record<string, unknown>[];
}

let app: Echo;
let receiver: http.Server;
const posts: Post[] = [];
let proxy: RunningProxy;
let port: number;

beforeAll(async () => {
  app = await startEcho('app');
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push({
        path: req.url ?? '',
        host: req.headers.host ?? '',
        contentType: req.headers['content-type'] ?? '',
        spans: JSON.parse(body) as Record<string, unknown>[],
      });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverPort = (receiver.address() as AddressInfo).port;
  proxy = await startProxy(
    {
      node: { id: 'sidecar~127.0.0.1~web-1.demo~demo.svc.cluster.local', cluster: 'web.demo' },
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
                  routes: [
                    { match: { prefix: '/' }, route: { cluster: 'app' }, decorator: { operation: 'shop' } },
                  ],
                },
              ],
            },
            {
              tracing: {
                random_sampling: { value: 100 },
                provider: {
                  name: 'envoy.tracers.zipkin',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
                    collector_cluster: 'zipkin',
                    collector_endpoint: '/api/v2/spans',
                    collector_endpoint_version: 'HTTP_JSON',
                    collector_hostname: 'zipkin.example',
                  },
                },
              },
            },
          ),
        ],
        clusters: [staticCluster('app', [app.port]), staticCluster('zipkin', [receiverPort])],
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
});

afterAll(async () => {
  await proxy?.stop();
  await app?.close();
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
});

const allSpans = (): Record<string, unknown>[] => posts.flatMap((p) => p.spans);

describe('zipkin tracer', () => {
  it('exports a span per request as Zipkin v2 JSON through the collector cluster', async () => {
    const traceId = '463ac35c9f6413ad';
    const parentId = 'a2fb4a1d1a96d312';
    const r = await get(port, '/buy', {
      'x-b3-traceid': traceId,
      'x-b3-spanid': parentId,
      'x-b3-sampled': '1',
    });
    expect(r.status).toBe(200);
    // The app sees the same trace continued (B3 and traceparent).
    const seen = JSON.parse(r.text).headers as Record<string, string>;
    expect(seen['x-b3-traceid']).toMatch(new RegExp(`${traceId}$`));
    while (!allSpans().some((s) => s['parentId'] === parentId))
      await new Promise((res) => setTimeout(res, 20));
    const span = allSpans().find((s) => s['parentId'] === parentId) ?? {};
    expect(posts[0]).toMatchObject({
      path: '/api/v2/spans',
      host: 'zipkin.example',
      contentType: 'application/json',
    });
    expect(span).toMatchObject({
      traceId,
      name: 'shop',
      kind: 'SERVER',
      localEndpoint: { serviceName: 'sidecar~127.0.0.1~web-1.demo~demo.svc.cluster.local' },
    });
    expect(span['id']).toBe(seen['x-b3-spanid']);
    const tags = span['tags'] as Record<string, string>;
    expect(tags['http.method']).toBe('GET');
    expect(tags['http.status_code']).toBe('200');
    expect(tags['upstream_cluster']).toBe('app');
    expect(Number(span['timestamp'])).toBeGreaterThan(1e15); // epoch microseconds
    expect(Number(span['duration'])).toBeGreaterThan(0);
  });

  it('starts a new trace for a request without one', async () => {
    const before = allSpans().length;
    await get(port, '/fresh');
    while (allSpans().length === before) await new Promise((res) => setTimeout(res, 20));
    const span = allSpans().at(-1) ?? {};
    expect(span['parentId']).toBeUndefined();
    expect(String(span['traceId'])).toMatch(/^[0-9a-f]{16}$/);
  });
});

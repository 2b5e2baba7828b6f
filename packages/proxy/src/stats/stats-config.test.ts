// The istio.stats policy: parsing, tag removal / upsert with attribute expressions, dropping a
// metric, and the metrics registry honouring it (label sets that grow with new tags).
import { describe, expect, it } from 'vitest';
import type { StreamInfo } from '../http-connection-manager/stream-info.js';
import { IstioMetrics, type MetricContext } from './istio-metrics.js';
import { applyPolicy, checkPolicy, evaluate, statsPolicyOf } from './stats-config.js';

const info = (over: Partial<StreamInfo> = {}): StreamInfo => ({
  startTime: new Date(0),
  startMs: 0,
  endMs: 5,
  protocol: 'HTTP/1.1',
  method: 'GET',
  path: '/books/1?x=1',
  authority: 'shop.local',
  requestHeaders: { 'user-agent': 'curl/8' },
  responseHeaders: {},
  responseTrailers: {},
  responseCode: 200,
  responseFlags: new Set(),
  bytesReceived: 0,
  bytesSent: 10,
  downstreamRemote: '127.0.0.1:1',
  downstreamLocal: '127.0.0.1:2',
  attempts: 1,
  tls: false,
  ...over,
});

const filter = (value: object) => ({
  name: 'istio.stats',
  typedConfig: { '@type': 'type.googleapis.com/google.protobuf.Struct', value },
});

describe('istio.stats policy', () => {
  const policy = statsPolicyOf(
    filter({
      metrics: [
        {
          name: 'requests_total',
          tagsToRemove: ['response_flags'],
          dimensions: { ua: "request.headers['user-agent']" },
        },
        { name: 'request_bytes', drop: true },
        { dimensions: { method: 'request.method', fixed: "'v1'" } },
      ],
    }),
  );

  it('is read from a Struct named istio.stats only', () => {
    expect(policy?.metrics).toHaveLength(3);
    expect(statsPolicyOf({ name: 'other', typedConfig: filter({}).typedConfig })).toBeUndefined();
  });

  it('removes and upserts tags, drops a metric, and applies all-metric overrides', () => {
    const attrs = { info: info(), labels: { reporter: 'source' } };
    const labels = { reporter: 'source', response_flags: '-' };
    expect(applyPolicy(policy, 'istio_requests_total', labels, attrs)).toEqual({
      reporter: 'source',
      ua: 'curl/8',
      method: 'GET',
      fixed: 'v1',
    });
    expect(applyPolicy(policy, 'istio_request_bytes', labels, attrs)).toBeUndefined();
  });

  it('evaluates the simple attribute expressions', () => {
    const a = {
      info: info(),
      labels: { destination_service: 'books.shop.svc.cluster.local' },
      destinationPort: 9080,
    };
    expect(evaluate('request.url_path', a)).toBe('/books/1');
    expect(evaluate('request.host', a)).toBe('shop.local');
    expect(evaluate('string(response.code)', a)).toBe('200');
    expect(evaluate('destination_service', a)).toBe('books.shop.svc.cluster.local');
    expect(evaluate("request.headers['x-missing']", a)).toBe('unknown');
    expect(() =>
      checkPolicy({
        metrics: [{ name: '', drop: false, tagsToRemove: [], dimensions: { a: 'has(x) ? 1 : 2' } }],
      }),
    ).toThrow(/unsupported expression/);
  });

  it('IstioMetrics honours the policy: a dropped metric is absent, removed tags gone, added tags present', async () => {
    const m = new IstioMetrics();
    const ctx: MetricContext = {
      reporter: 'source',
      local: { workload: 'client', namespace: 'demo' },
      peer: undefined,
      service: 'books.shop.svc.cluster.local',
      protocol: 'http',
      mtls: false,
      policy,
    };
    m.recordRequest(ctx, info());
    m.recordRequest({ ...ctx, policy: undefined }, info());
    const text = await m.prometheus();
    const requests = text.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    expect(requests).toHaveLength(2);
    expect(requests.find((l) => l.includes('ua="curl/8"'))).not.toContain('response_flags=');
    expect(requests.find((l) => !l.includes('ua='))).toContain('response_flags="-"');
    expect(text.split('\n').filter((l) => l.startsWith('istio_request_bytes_count{'))).toHaveLength(1);
  });
});

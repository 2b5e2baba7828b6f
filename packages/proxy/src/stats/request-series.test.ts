// The per-series label cache leaves the Prometheus text exactly as resolving every request afresh:
// the same varied traffic (codes, flags, gRPC, peers, mTLS, policies that drop, remove and add tags,
// some reading the request itself) recorded through both paths gives byte-identical output.
import { describe, expect, it } from 'vitest';
import type { PeerMetadata, StreamInfo } from '../http-connection-manager/stream-info.js';
import { IstioMetrics, type MetricContext } from './istio-metrics.js';
import { statsPolicyOf, type MetricsPolicy } from './stats-config.js';

const policyOf = (metrics: object[]): MetricsPolicy => {
  const p = statsPolicyOf({
    name: 'istio.stats',
    typedConfig: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { metrics } },
  });
  if (!p) throw new Error('not a stats policy');
  return p;
};

const POLICIES: (MetricsPolicy | undefined)[] = [
  undefined,
  policyOf([{ name: 'request_bytes', drop: true }]),
  policyOf([
    { name: 'requests_total', tags_to_remove: ['response_flags', 'source_principal'] },
    { dimensions: { fixed: "'v1'", code_again: 'string(response.code)', svc: 'destination_service' } },
  ]),
  policyOf([{ dimensions: { ua: "request.headers['user-agent']", host: 'request.host' } }]),
  policyOf([
    {
      name: 'request_duration_milliseconds',
      dimensions: { cl: 'xds.cluster_name', port: 'destination.port' },
    },
  ]),
  policyOf([{ dimensions: { path: 'request.url_path', m: 'request.method' } }]),
];

const PEERS: (PeerMetadata | undefined)[] = [
  undefined,
  { workload: 'reviews-v1', namespace: 'shop', serviceAccount: 'reviews', app: 'reviews', version: 'v1' },
  { workload: 'ratings', namespace: 'other', canonicalService: 'ratings', canonicalRevision: 'v2' },
];
const LOCAL: PeerMetadata = {
  workload: 'productpage',
  namespace: 'shop',
  serviceAccount: 'pp',
  clusterId: 'k1',
};

/** A deterministic generator so both paths see the same sequence. */
function* traffic(n: number): Generator<{ ctx: MetricContext; info: StreamInfo }> {
  let seed = 7;
  const pick = <T>(xs: readonly T[]): T => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return xs[(seed >>> 12) % xs.length] as T;
  };
  for (let i = 0; i < n; i++) {
    const protocol = pick(['http', 'http', 'grpc'] as const);
    const cluster = pick(['outbound|9080||reviews.shop.svc.cluster.local', 'inbound|9080||', undefined]);
    const flags = pick([[], [], ['UO'], ['UF', 'URX']]);
    const code = pick([200, 200, 200, 404, 503, 0]);
    const trailers: Record<string, string> =
      protocol === 'grpc' ? pick([{ 'grpc-status': '0' }, { 'grpc-status': '14' }, {}]) : {};
    const ctx: MetricContext = {
      reporter: pick(['source', 'destination'] as const),
      local: LOCAL,
      peer: pick(PEERS),
      service: pick(['reviews.shop.svc.cluster.local', 'example.com', undefined]),
      protocol,
      mtls: pick([true, false]),
      peerPrincipal: pick([undefined, 'spiffe://cluster.local/ns/shop/sa/reviews']),
      policy: pick(POLICIES),
    };
    const start = 1000 * i;
    const info: StreamInfo = {
      startTime: new Date(start),
      startMs: start,
      endMs: start + pick([0, 1, 3, 40, 700, 20000]),
      protocol: 'HTTP/1.1',
      method: pick(['GET', 'POST']),
      path: pick(['/a?x=1', '/b']),
      authority: pick(['reviews:9080', 'example.com']),
      requestHeaders: { 'user-agent': pick(['curl/8', 'grpc-go/1.6', 'k6']) },
      responseHeaders: {},
      responseTrailers: trailers,
      responseCode: code,
      responseFlags: new Set(flags),
      ...(cluster !== undefined ? { clusterName: cluster } : {}),
      bytesReceived: pick([0, 12, 1500]),
      bytesSent: pick([0, 1024, 99999]),
      downstreamRemote: '127.0.0.1:1',
      downstreamLocal: '127.0.0.1:2',
      attempts: 1,
      tls: ctx.mtls,
    };
    yield { ctx, info };
  }
}

describe('request series cache', () => {
  it('gives byte-identical Prometheus text to resolving every request afresh', async () => {
    const cached = new IstioMetrics();
    const fresh = new IstioMetrics(true);
    for (const { ctx, info } of traffic(3000)) {
      cached.recordRequest(ctx, info);
      fresh.recordRequest(ctx, info);
    }
    const text = await cached.prometheus();
    expect(text).toBe(await fresh.prometheus());
    // The traffic exercised what the cache must respect.
    expect(text).toContain('ua="k6"');
    expect(text).toContain('ua="curl/8"');
    expect(text).toContain('path="/a"');
    expect(text).toContain('fixed="v1"');
    expect(text).toContain('response_flags="UF,URX"');
    expect(text).toContain('grpc_response_status="14"');
    expect(text).toContain('cl="inbound|9080||"');
  });

  it('keeps per-request tag values apart within one series (a policy reading request headers)', async () => {
    const m = new IstioMetrics();
    const [first] = traffic(1);
    if (!first) throw new Error('no traffic');
    const ctx = { ...first.ctx, policy: POLICIES[3] };
    for (const ua of ['a', 'b', 'a'])
      m.recordRequest(ctx, { ...first.info, requestHeaders: { 'user-agent': ua } });
    const lines = (await m.prometheus()).split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    expect(lines.filter((l) => l.includes('ua="a"'))).toEqual([expect.stringMatching(/ 2$/)]);
    expect(lines.filter((l) => l.includes('ua="b"'))).toEqual([expect.stringMatching(/ 1$/)]);
  });
});

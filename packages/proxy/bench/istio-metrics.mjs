// Microbenchmark of the per-request cost of Istio telemetry in skein-proxy: IstioMetrics.recordRequest
// resolving every request's labels afresh (the previous behaviour, `new IstioMetrics(true)`) against
// the per-series cache, plus the metadata-exchange encode/decode of one header value. Interleaved
// rounds, medians. Run after building the proxy:
//   npx nx run proxy:build && flock /tmp/skein-bench.lock node packages/proxy/bench/istio-metrics.mjs
import { IstioMetrics } from '../dist/stats/istio-metrics.js';
import { decodePeerMetadata, encodePeerMetadata } from '../dist/stats/workload-metadata.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const N = Number(process.env.BENCH_N ?? 100_000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const local = {
  workload: 'productpage-v1',
  namespace: 'shop',
  serviceAccount: 'pp',
  clusterId: 'k1',
  app: 'pp',
  version: 'v1',
  labels: { app: 'pp', version: 'v1' },
};
const peer = {
  workload: 'reviews-v1',
  namespace: 'shop',
  serviceAccount: 'reviews',
  clusterId: 'k1',
  app: 'reviews',
  version: 'v1',
  labels: { app: 'reviews' },
};
const ctx = () => ({
  reporter: 'source',
  local,
  peer,
  service: 'reviews.shop.svc.cluster.local',
  protocol: 'http',
  mtls: true,
  peerPrincipal: undefined,
  policy: undefined,
});
const info = (i) => ({
  startTime: new Date(0),
  startMs: i,
  endMs: i + (i % 7),
  protocol: 'HTTP/1.1',
  method: 'GET',
  path: '/reviews/1',
  authority: 'reviews:9080',
  requestHeaders: {},
  responseHeaders: {},
  responseTrailers: {},
  responseCode: i % 50 === 0 ? 503 : 200,
  responseFlags: new Set(),
  clusterName: 'outbound|9080||reviews.shop.svc.cluster.local',
  bytesReceived: 0,
  bytesSent: 1024,
  downstreamRemote: '127.0.0.1:1',
  downstreamLocal: '127.0.0.1:2',
  attempts: 1,
  tls: true,
});
const infos = Array.from({ length: 1000 }, (_, i) => info(i));

/** ns per request: a MetricContext made per request as the connection manager does. */
function record(m) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) m.recordRequest(ctx(), infos[i % 1000]);
  return Number(process.hrtime.bigint() - t) / N;
}

function exchange() {
  const value = Buffer.from(JSON.stringify(peer)).toString('base64');
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    encodePeerMetadata(local);
    decodePeerMetadata(value);
  }
  return Number(process.hrtime.bigint() - t) / N;
}
function exchangeUncached() {
  const value = Buffer.from(JSON.stringify(peer)).toString('base64');
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    Buffer.from(JSON.stringify(local)).toString('base64');
    JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  }
  return Number(process.hrtime.bigint() - t) / N;
}

const fresh = new IstioMetrics(true);
const cached = new IstioMetrics();
const s = { fresh: [], cached: [], xUncached: [], xCached: [] };
for (let r = 0; r < ROUNDS; r++) {
  s.fresh.push(record(fresh));
  s.cached.push(record(cached));
  s.xUncached.push(exchangeUncached());
  s.xCached.push(exchange());
}
const f = (x) => x.toFixed(0).padStart(6);
console.log(`recordRequest, labels resolved per request: ${f(median(s.fresh))} ns/request`);
console.log(
  `recordRequest, per-series cache:            ${f(median(s.cached))} ns/request  (${(median(s.cached) / median(s.fresh)).toFixed(2)}x)`,
);
console.log(`metadata exchange encode+decode, per call:  ${f(median(s.xUncached))} ns/request`);
console.log(
  `metadata exchange encode+decode, cached:    ${f(median(s.xCached))} ns/request  (${(median(s.xCached) / median(s.xUncached)).toFixed(2)}x)`,
);
console.log(`(${ROUNDS} interleaved rounds of ${N} requests, medians)`);

// Behavioural simulation: requests evaluated against the generated config of a given proxy.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterEndpoints, simulateHttp } from '../../test/support/simulate.js';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

const read = (name: string) => readFileSync(new URL(`../../testdata/${name}.yaml`, import.meta.url), 'utf8');
const bookinfo = snapshotFromYaml(read('bookinfo'));
const REVIEWS = 'reviews.default.svc.cluster.local';

describe('simulation: bookinfo', () => {
  const fromProductpage = generate(
    bookinfo,
    proxy({ ip: '10.0.0.5', labels: { app: 'productpage', version: 'v1' } }),
  );

  it('GET /reviews with end-user: jason goes to subset v2, whose endpoint is reviews-v2', () => {
    const out = simulateHttp(fromProductpage, {
      port: 9080,
      authority: 'reviews:9080',
      path: '/reviews/1',
      headers: { 'end-user': 'jason' },
    });
    expect(out.route).toBe('jason');
    expect(out.clusters).toEqual({ [`outbound|9080|v2|${REVIEWS}`]: 1 });
    expect(clusterEndpoints(fromProductpage, `outbound|9080|v2|${REVIEWS}`)).toEqual(['10.0.0.12:9080']);
  });

  it('other users are split 90/10 with the route timeout and retries', () => {
    const out = simulateHttp(fromProductpage, {
      port: 9080,
      authority: `${REVIEWS}`,
      path: '/reviews/1',
      headers: { 'end-user': 'mary' },
    });
    expect(out.clusters).toEqual({
      [`outbound|9080|v1|${REVIEWS}`]: 0.9,
      [`outbound|9080|v2|${REVIEWS}`]: 0.1,
    });
    expect(out.action).toMatchObject({
      timeout: '2s',
      retryPolicy: {
        numRetries: 3,
        perTryTimeout: '0.5s',
        retryOn: '5xx,retriable-status-codes',
        retriableStatusCodes: [503],
      },
    });
  });

  it('the ratings fault applies only to calls from reviews v2 pods (sourceLabels)', () => {
    const fromV2 = generate(bookinfo, proxy({ ip: '10.0.0.12', labels: { app: 'reviews', version: 'v2' } }));
    const fromV1 = generate(bookinfo, proxy({ ip: '10.0.0.11', labels: { app: 'reviews', version: 'v1' } }));
    const req = { port: 9080, authority: 'ratings.default:9080', path: '/ratings/0' };
    expect(
      simulateHttp(fromV2, req).route_['typedPerFilterConfig']?.['envoy.filters.http.fault'],
    ).toMatchObject({
      abort: { httpStatus: 500, percentage: { numerator: 500000, denominator: 'MILLION' } },
      delay: { fixedDelay: '7s' },
    });
    expect(simulateHttp(fromV1, req).route_['typedPerFilterConfig']).toBeUndefined();
  });

  it('a service without a VirtualService gets Istio defaults: one cluster, no timeout, 2 retries', () => {
    const snap = snapshotFromYaml(
      read('bookinfo').replace(
        /kind: VirtualService\nmetadata: \{ name: ratings[\s\S]*?(?=---)/,
        'kind: Sidecar\nmetadata: { name: unrelated, namespace: other }\nspec: {}\n',
      ),
    );
    const out = simulateHttp(generate(snap, proxy({ ip: '10.0.0.5' })), {
      port: 9080,
      authority: 'ratings:9080',
    });
    expect(out.route).toBe('default');
    expect(out.clusters).toEqual({ 'outbound|9080||ratings.default.svc.cluster.local': 1 });
    expect(out.action).toMatchObject({
      timeout: '0s',
      retryPolicy: {
        numRetries: 2,
        retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      },
    });
  });

  it('unknown hosts pass through under ALLOW_ANY and the DestinationRule shapes the clusters', () => {
    expect(simulateHttp(fromProductpage, { port: 9080, authority: 'example.com' }).clusters).toEqual({
      PassthroughCluster: 1,
    });
    const v1 = fromProductpage.clusters.find((c) => c['name'] === `outbound|9080|v1|${REVIEWS}`);
    expect(v1).toMatchObject({
      lbPolicy: 'ROUND_ROBIN',
      connectTimeout: '3s',
      outlierDetection: { consecutive5xx: 5, maxEjectionPercent: 50 },
    });
    const v2 = fromProductpage.clusters.find((c) => c['name'] === `outbound|9080|v2|${REVIEWS}`);
    expect(v2).toMatchObject({ lbPolicy: 'RING_HASH' });
    const plain = fromProductpage.clusters.find(
      (c) => c['name'] === 'outbound|9080||ratings.default.svc.cluster.local',
    );
    expect(plain).toMatchObject({ lbPolicy: 'LEAST_REQUEST' });
  });
});

describe('simulation: policies (REGISTRY_ONLY sidecar, redirect, rewrite, regex, query)', () => {
  const gen = generate(
    snapshotFromYaml(read('policies')),
    proxy({ ip: '10.1.9.9', namespace: 'shop', labels: { app: 'frontend' } }),
  );

  it('redirects /old with 302', () => {
    expect(simulateHttp(gen, { port: 80, authority: 'web', path: '/old' }).redirect).toEqual({
      pathRedirect: '/new',
      responseCode: 'FOUND',
    });
  });

  it('matches POST /api/v2/... with ?debug=1 by RE2, and not GET or without the parameter', () => {
    expect(
      simulateHttp(gen, { port: 80, authority: 'web', path: '/api/v2/items?debug=1', method: 'POST' }).route,
    ).toBe('api');
    expect(
      simulateHttp(gen, { port: 80, authority: 'web', path: '/api/v2/items?debug=1', method: 'GET' }).route,
    ).toBe('default');
    expect(
      simulateHttp(gen, { port: 80, authority: 'web', path: '/api/v2/items', method: 'POST' }).route,
    ).toBe('default');
  });

  it('blocks unknown hosts with 502 under REGISTRY_ONLY', () => {
    expect(simulateHttp(gen, { port: 80, authority: 'example.com' }).directResponse).toEqual({ status: 502 });
  });
});

describe('simulation: no-capture (the local demo shape)', () => {
  const snap = snapshotFromYaml(read('no-capture'));
  const client = generate(
    snap,
    proxy({
      ip: '127.0.0.20',
      pod: 'client',
      namespace: 'demo',
      labels: { app: 'client' },
      interceptionMode: 'NONE',
    }),
  );

  it('the client sidecar listens on its own address and sends jason to v2, others to v1', () => {
    expect(client.listeners.map((l) => l['name'])).toEqual(['127.0.0.20_9080']);
    const req = { port: 9080, address: '127.0.0.20', authority: 'reviews.demo.svc.cluster.local:9080' };
    expect(simulateHttp(client, { ...req, headers: { 'end-user': 'jason' } }).clusters).toEqual({
      'outbound|9080|v2|reviews.demo.svc.cluster.local': 1,
    });
    expect(simulateHttp(client, req).clusters).toEqual({
      'outbound|9080|v1|reviews.demo.svc.cluster.local': 1,
    });
    expect(clusterEndpoints(client, 'outbound|9080|v1|reviews.demo.svc.cluster.local')).toEqual([
      '127.0.0.11:9080',
    ]);
  });

  it('the server sidecar binds its ingress address and forwards to the app', () => {
    const server = generate(
      snap,
      proxy({
        ip: '127.0.0.11',
        pod: 'reviews-v1',
        namespace: 'demo',
        labels: { app: 'reviews', version: 'v1' },
        interceptionMode: 'NONE',
      }),
    );
    const inbound = server.listeners.find((l) => l['trafficDirection'] === 'INBOUND');
    expect(inbound).toMatchObject({
      name: '127.0.0.11_9080',
      address: { socketAddress: { address: '127.0.0.11', portValue: 9080 } },
    });
    expect(clusterEndpoints(server, 'inbound|9080||')).toEqual(['127.0.0.11:8080']);
    expect(
      server.listeners.some((l) => l['name'] === 'virtualOutbound' || l['name'] === 'virtualInbound'),
    ).toBe(false);
  });
});

describe('simulation: ingress gateway', () => {
  const gw = generate(
    snapshotFromYaml(read('gateway')),
    proxy({
      ip: '10.2.9.9',
      pod: 'ingressgateway',
      namespace: 'istio-system',
      labels: { istio: 'ingressgateway' },
      type: 'router',
    }),
  );

  it('binds the server ports and routes /productpage on bookinfo.example.com to productpage', () => {
    expect(gw.listeners.map((l) => [l['name'], l['bindToPort']])).toEqual([
      ['0.0.0.0_443', undefined],
      ['0.0.0.0_80', undefined],
    ]);
    // Port 80 redirects to HTTPS (httpsRedirect → requireTls); 443 routes.
    expect(
      simulateHttp(gw, { port: 80, authority: 'bookinfo.example.com', path: '/productpage' }).virtualHost,
    ).toBe('bookinfo.example.com:80');
    expect(gw.routes.find((r) => r['name'] === 'http.80')).toMatchObject({
      virtualHosts: [{ requireTls: 'ALL' }, {}],
    });
    const out = simulateHttp(gw, { port: 443, authority: 'bookinfo.example.com', path: '/productpage' });
    expect(out.clusters).toEqual({ 'outbound|9080||productpage.bookinfo.svc.cluster.local': 1 });
    expect(clusterEndpoints(gw, 'outbound|9080||productpage.bookinfo.svc.cluster.local')).toEqual([
      '10.2.0.1:9080',
    ]);
    expect(
      simulateHttp(gw, { port: 80, authority: 'other.example.com', path: '/productpage' }).directResponse,
    ).toEqual({ status: 404 });
  });

  it('terminates TLS by SNI with the credential over SDS and passes vault.example.com through', () => {
    const https = gw.listeners.find((l) => l['name'] === '0.0.0.0_443') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const sni = https['filterChains'].map((c: Record<string, any>) => c['filterChainMatch']?.serverNames); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(sni).toEqual([['bookinfo.example.com'], ['vault.example.com']]);
    expect(JSON.stringify(https['filterChains'][0])).toContain('"name":"kubernetes://bookinfo-cert"');
    expect(JSON.stringify(https['filterChains'][1])).toContain(
      'outbound|8200||vault.bookinfo.svc.cluster.local',
    );
  });

  it('a sidecar does not get routes of VirtualServices bound only to a gateway', () => {
    const sidecar = generate(
      snapshotFromYaml(read('gateway')),
      proxy({ ip: '10.2.0.5', namespace: 'bookinfo' }),
    );
    expect(JSON.stringify(sidecar.routes)).not.toContain('bookinfo.example.com');
  });
});

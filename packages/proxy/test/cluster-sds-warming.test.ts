// Clusters warm until their SDS secrets arrive, as Envoy's (the cluster's init manager holds SdsApi
// init targets): a CDS cluster originating mTLS with a certificate that comes late keeps the start
// waiting — no LDS request, no upstream connection — and its first request then succeeds with the
// client certificate instead of failing its handshake; a secret whose `initial_fetch_timeout` runs
// out lets the cluster go active without it (as Envoy); a later rotation swaps in place, no re-warm.
// Real sockets: a TLS upstream requiring a client certificate, the in-process ADS and SDS servers.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy, type TestAdsServer } from '../src/index.js';
import { ADMIN, anyHostRoutes, get, httpListener } from './helpers/upstreams.js';
import { adsBootstrap, grpcCluster, rdsListener, routeTo } from './helpers/xds-resources.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';
import { certSecret, rootSecret } from './helpers/sds-secrets.js';
import { mtlsCluster as mtlsToUpstream, tlsUpstream, type TlsUpstream } from './helpers/tls-upstream.js';
import { until } from './helpers/until.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
const CLUSTER = 'outbound|443||server.default.svc.cluster.local';

const cleanup = cleanupAfterEach();

const sdsSource = (initialFetchTimeout: string) => ({
  apiConfigSource: {
    apiType: 'GRPC',
    transportApiVersion: 'V3',
    grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }],
  },
  resourceApiVersion: 'V3',
  initialFetchTimeout,
});

/** The mTLS cluster under test, its secrets from `sds-grpc` with this initial_fetch_timeout. */
const mtlsCluster = (port: number, initialFetchTimeout: string) =>
  mtlsToUpstream(CLUSTER, port, SERVER_ID, sdsSource(initialFetchTimeout));

/** The static `sds-grpc` cluster (HTTP/2) to an SDS server on `port`. */
const sdsGrpcCluster = (port: number) => grpcCluster('sds-grpc', port);

interface Setup {
  pki: TestPki;
  upstream: TlsUpstream;
  ads: TestAdsServer;
  sds: TestAdsServer;
  proxy: RunningProxy;
}

/** A sidecar over ADS whose only CDS cluster is `mtlsCluster`, with its SDS server not yet serving. */
async function setup(initialFetchTimeout: string): Promise<Setup> {
  const pki = makePki();
  cleanup.push(() => pki.cleanup());
  const upstream = await tlsUpstream(pki, pki.leaf(SERVER_ID));
  cleanup.push(() => upstream.close());
  const ads = await startTestAdsServer();
  cleanup.push(() => ads.close());
  const sds = await startTestAdsServer();
  cleanup.push(() => sds.close());
  ads.set(TypeUrl.Cluster, [mtlsCluster(upstream.port, initialFetchTimeout)], 'c1');
  ads.set(TypeUrl.Listener, [rdsListener('http', 0, 'r1')], 'l1');
  ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', CLUSTER)], 'r1');
  const bootstrap = adsBootstrap(ads.port) as { staticResources: { clusters: unknown[] } };
  bootstrap.staticResources.clusters.push(sdsGrpcCluster(sds.port));
  const proxy = await startProxy(bootstrap, { logLevel: 'off' });
  cleanup.push(() => proxy.stop());
  return { pki, upstream, ads, sds, proxy };
}

function warmingInDump(proxy: RunningProxy): string[] {
  const dump = JSON.parse(proxy.configDump()) as {
    configs: { '@type': string; dynamic_warming_clusters?: { cluster: { name: string } }[] }[];
  };
  const clusters = dump.configs.find((c) => c['@type'].endsWith('ClustersConfigDump'));
  return (clusters?.dynamic_warming_clusters ?? []).map((c) => c.cluster.name);
}

describe.skipIf(!hasOpenssl())('clusters warm until their SDS secrets (as Envoy)', () => {
  it('a CDS cluster waits for its late certificate: the first request then succeeds with mTLS', async () => {
    const { pki, upstream, ads, sds, proxy } = await setup('0s');
    // The cluster is in, its secrets asked for over SDS, and it warms on them.
    await sds.waitForRequest((r) => r.typeUrl === TypeUrl.Secret && r.resourceNames.includes('default'));
    await until('the CDS cluster', () => proxy.clusters.warming().includes(CLUSTER));
    expect(warmingInDump(proxy)).toEqual([CLUSTER]);
    expect(proxy.clusters.get(CLUSTER)).toBeUndefined(); // a new CDS cluster warms out of sight
    expect(proxy.stats.value('cluster_manager.warming_clusters')).toBe(1);
    // The start waits: not ready, LDS not even asked for (Envoy asks once CDS has warmed).
    expect(proxy.isReady).toBe(false);
    expect(ads.requests.some((r) => r.typeUrl === TypeUrl.Listener)).toBe(false);

    sds.set(TypeUrl.Secret, [certSecret(pki.leaf(CLIENT_ID)), rootSecret(pki)]);
    await proxy.waitReady();
    expect(proxy.clusters.warming()).toEqual([]);
    expect(warmingInDump(proxy)).toEqual([]);
    expect(proxy.stats.value('cluster_manager.warming_clusters')).toBe(0);
    const res = await get(proxy.listenerAddress('http')!.port, '/');
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { san: string }).san).toBe(`URI:${CLIENT_ID}`);
    // No connection was ever tried without the certificate.
    expect(upstream.failures).toBe(0);
    expect(upstream.handshakes).toBe(1);
  });

  it('a secret whose initial_fetch_timeout (0.2s) runs out: the cluster goes active without it', async () => {
    const { pki, upstream, sds, proxy } = await setup('0.2s');
    await proxy.waitReady();
    expect(proxy.stats.value('sds.default.init_fetch_timeout')).toBe(1);
    expect(proxy.stats.value('sds.ROOTCA.init_fetch_timeout')).toBe(1);
    expect(proxy.clusters.get(CLUSTER)).toBeDefined();
    expect(proxy.clusters.warming()).toEqual([]);
    // Active without its certificate: requests fail (no TLS context yet), as Envoy's would.
    const port = proxy.listenerAddress('http')!.port;
    const before = await get(port, '/');
    expect(before.status).toBe(503);
    // The secrets arrive: the same cluster serves them.
    const cluster = proxy.clusters.get(CLUSTER);
    sds.set(TypeUrl.Secret, [certSecret(pki.leaf(CLIENT_ID)), rootSecret(pki)]);
    await until('a request with the certificate', async () => (await get(port, '/')).status === 200);
    expect(proxy.clusters.get(CLUSTER)).toBe(cluster);
    expect(upstream.handshakes).toBeGreaterThanOrEqual(1);
  });

  it('a secret update after warming swaps in place: no re-warm, new connections use it', async () => {
    const { pki, sds, proxy } = await setup('0s');
    const first = pki.leaf(CLIENT_ID);
    sds.set(TypeUrl.Secret, [certSecret(first), rootSecret(pki)]);
    await proxy.waitReady();
    const port = proxy.listenerAddress('http')!.port;
    const cluster = proxy.clusters.get(CLUSTER);
    const fingerprint = async () =>
      (JSON.parse((await get(port, '/')).text) as { fingerprint: string }).fingerprint;
    const before = await fingerprint();

    const rotated = pki.leaf(CLIENT_ID);
    sds.set(TypeUrl.Secret, [certSecret(rotated), rootSecret(pki)]);
    await until('the rotated certificate', async () => (await fingerprint()) !== before);
    // The same cluster, never warming again; every request kept succeeding (fingerprint parsed).
    expect(proxy.clusters.get(CLUSTER)).toBe(cluster);
    expect(proxy.clusters.warming()).toEqual([]);
    expect(proxy.stats.value('cluster_manager.warming_clusters')).toBe(0);
  });

  it('CDS and LDS initial_fetch_timeout are counted as Envoy counts them', async () => {
    // The server answers nothing: each wait runs out (CDS's from the start, LDS's after it).
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const bootstrap = adsBootstrap(ads.port) as { dynamicResources: Record<string, unknown> };
    const timeout = { ads: {}, resourceApiVersion: 'V3', initialFetchTimeout: '0.2s' };
    bootstrap.dynamicResources['cdsConfig'] = timeout;
    bootstrap.dynamicResources['ldsConfig'] = timeout;
    const proxy = await startProxy(bootstrap, { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    expect(proxy.stats.value('cluster_manager.cds.init_fetch_timeout')).toBe(1);
    expect(proxy.stats.value('listener_manager.lds.init_fetch_timeout')).toBe(1);
    expect(proxy.stats.value('cluster_manager.warming_clusters')).toBe(0);
    expect(proxy.stats.value('cluster_manager.active_clusters')).toBe(1); // the static xds-grpc
  });

  it('a bootstrap cluster holds the start until its secrets arrive (without ADS)', async () => {
    const pki = makePki();
    cleanup.push(() => pki.cleanup());
    const upstream = await tlsUpstream(pki, pki.leaf(SERVER_ID));
    cleanup.push(() => upstream.close());
    const sds = await startTestAdsServer();
    cleanup.push(() => sds.close());
    const routes = anyHostRoutes([{ match: { prefix: '/' }, route: { cluster: CLUSTER } }]);
    const proxy = await startProxy(
      {
        node: { id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local' },
        admin: ADMIN,
        staticResources: {
          listeners: [httpListener('http', routes)],
          clusters: [mtlsCluster(upstream.port, '0s'), sdsGrpcCluster(sds.port)],
        },
      },
      { logLevel: 'off' },
    );
    cleanup.push(() => proxy.stop());
    await sds.waitForRequest((r) => r.typeUrl === TypeUrl.Secret && r.resourceNames.includes('ROOTCA'));
    // Static clusters are active at once (as Envoy's) but hold the start while they warm.
    expect(proxy.clusters.get(CLUSTER)).toBeDefined();
    expect(proxy.clusters.warming()).toEqual([CLUSTER]);
    expect(proxy.isReady).toBe(false);
    expect(proxy.listenerAddress('http')).toBeUndefined();

    sds.set(TypeUrl.Secret, [certSecret(pki.leaf(CLIENT_ID)), rootSecret(pki)]);
    await proxy.waitReady();
    const res = await get(proxy.listenerAddress('http')!.port, '/');
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { san: string }).san).toBe(`URI:${CLIENT_ID}`);
    expect(upstream.failures).toBe(0);
  });
});

// Cluster warming waits for the first health-check round, as Envoy's does: over ADS, LDS is not
// requested (and the proxy is not ready) until every host of a health-checked cluster had its
// first check, so the first request finds a healthy host instead of a 503 UH; an updated cluster
// warms beside the old one, which keeps serving until the swap; a cluster new to CDS is hidden while
// it warms (503 `NC`, not `UH`), then serves. Real upstreams whose health
// answers the test holds back, so each step waits on an event, not on time.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer } from '../src/index.js';
import { get } from './helpers/upstreams.js';
import { adsBootstrap, assignment, edsCluster, rdsListener, routeTo } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { startHeldUpstream as startHeld, type HeldUpstream } from './helpers/held-upstream.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const cleanup = cleanupAfterEach();

async function startHeldUpstream(name: string): Promise<HeldUpstream> {
  const u = await startHeld(name);
  cleanup.push(() => u.close());
  return u;
}

const HEALTH_CHECKS = {
  healthChecks: [
    {
      timeout: '10s',
      interval: '0.05s',
      noTrafficInterval: '0.05s',
      healthyThreshold: 1,
      unhealthyThreshold: 1,
      httpHealthCheck: { path: '/healthz' },
    },
  ],
};

/**
 * Upstream `a` healthy behind a health-checked EDS cluster `svc` (CDS version c1) and upstream `b`
 * holding its first health check; the ADS server and the listener's port, for the tests to go on.
 */
async function warmServiceAndHeldSecond(): Promise<{
  a: HeldUpstream;
  b: HeldUpstream;
  ads: Awaited<ReturnType<typeof startTestAdsServer>>;
  port: number;
}> {
  const a = await startHeldUpstream('a');
  const b = await startHeldUpstream('b');
  a.release();
  const ads = await startTestAdsServer();
  cleanup.push(() => ads.close());
  const port = await freePort();
  ads.set(TypeUrl.Cluster, [edsCluster('svc', HEALTH_CHECKS)], 'c1');
  return { a, b, ads, port };
}

describe('cluster warming with active health checks', () => {
  it('requests LDS and becomes ready only after the first health-check round, then serves at once', async () => {
    const a = await startHeldUpstream('a');
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const port = await freePort();
    ads.set(TypeUrl.Cluster, [edsCluster('svc', HEALTH_CHECKS)], 'c1');
    ads.set(TypeUrl.ClusterLoadAssignment, [assignment('svc', [a.port])], 'e1');
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc')], 'r1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    let ready = false;
    void proxy.waitReady().then(() => (ready = true));

    await a.firstCheck;
    // The assignment is in (the check reached the host) but the check has not answered.
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment && r.versionInfo === 'e1');
    expect(ads.requests.some((r) => r.typeUrl === TypeUrl.Listener)).toBe(false);
    expect(ready).toBe(false);
    expect(proxy.clusters.warming()).toEqual(['svc']);

    a.release();
    await proxy.waitReady();
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.Listener && r.versionInfo === 'l1');
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.versionInfo === 'r1');
    // The first request through finds the host already healthy.
    expect(await get(port, '/')).toMatchObject({ status: 200, text: 'a' });
  });

  it('a cluster new to CDS is hidden while it warms: 503 NC, not UH, then served once warm', async () => {
    const { a, b, ads, port } = await warmServiceAndHeldSecond();
    ads.set(TypeUrl.ClusterLoadAssignment, [assignment('svc', [a.port]), assignment('new', [b.port])], 'e1');
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'new')], 'r1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.versionInfo === 'r1');
    const flag = (f: string): number => proxy.stats.value(`http.http.response_flag.${f}`);
    expect((await get(port, '/')).status).toBe(503);
    expect(flag('NC')).toBe(1);

    // CDS adds the cluster; its host's first health check is held, so it is warming.
    ads.set(TypeUrl.Cluster, [edsCluster('svc', HEALTH_CHECKS), edsCluster('new', HEALTH_CHECKS)], 'c2');
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.Cluster && r.versionInfo === 'c2');
    await b.firstCheck;
    expect(proxy.clusters.warming()).toEqual(['new']);
    expect(proxy.clusters.get('new')).toBeUndefined();
    for (let i = 0; i < 3; i++) expect((await get(port, '/')).status).toBe(503);
    expect(flag('NC')).toBe(4);
    expect(flag('UH')).toBe(0);
    const dump = JSON.parse(proxy.configDump()) as { configs: Record<string, unknown>[] };
    const clusters = dump.configs.find((c) => String(c['@type']).endsWith('ClustersConfigDump'));
    expect(
      JSON.stringify(clusters?.['dynamicWarmingClusters'] ?? clusters?.['dynamic_warming_clusters']),
    ).toContain('"new"');

    b.release();
    while (proxy.clusters.warming().length > 0) await new Promise((r) => setTimeout(r, 10));
    expect(await get(port, '/')).toMatchObject({ status: 200, text: 'b' });
    expect(flag('UH')).toBe(0);
  });

  it('an updated cluster warms beside the old one, which serves until the swap', async () => {
    const { a, b, ads, port } = await warmServiceAndHeldSecond();
    ads.set(
      TypeUrl.ClusterLoadAssignment,
      [assignment('svc', [a.port]), assignment('svc-v2', [b.port])],
      'e1',
    );
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc')], 'r1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.versionInfo === 'r1');
    expect((await get(port, '/')).text).toBe('a');

    // The update points the cluster at b's endpoints; b's first check is held.
    const v2 = edsCluster('svc', {
      ...HEALTH_CHECKS,
      edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' }, serviceName: 'svc-v2' },
    });
    ads.set(TypeUrl.Cluster, [v2], 'c2');
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.Cluster && r.versionInfo === 'c2');
    await b.firstCheck;
    expect(proxy.clusters.warming()).toEqual(['svc']);
    for (let i = 0; i < 3; i++) expect(await get(port, '/')).toMatchObject({ status: 200, text: 'a' });

    b.release();
    // The swap follows b's first answer (the test's timeout bounds the wait).
    while (proxy.clusters.warming().length > 0) await new Promise((r) => setTimeout(r, 10));
    expect(await get(port, '/')).toMatchObject({ status: 200, text: 'b' });
  });
});

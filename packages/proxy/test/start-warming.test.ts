// The start as Envoy's: listeners accept nothing until the start is over — without ADS, until the
// static clusters' first health-check round answered; with ADS, until CDS (and its clusters'
// EDS), LDS and the listeners' RDS answered (a rejected first response counts) or their
// initial_fetch_timeout ran out. Meanwhile /ready answers 503 INITIALIZING and `server.state` is 3; then 200 LIVE and 0.
// Real sockets; the health answers are held by the test, so each step waits on an event.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy } from '../src/index.js';
import { ADMIN, anyHostRoutes, get, httpListener, startEcho, staticCluster } from './helpers/upstreams.js';
import { adsBootstrap, assignment, edsCluster, rdsListener, routeTo } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { startHeldUpstream } from './helpers/held-upstream.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const cleanup = cleanupAfterEach();

/** Whether a TCP connection to the port is accepted or refused. */
function connectOutcome(port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err),
    );
  });
}

async function ready(proxy: RunningProxy): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/ready`);
  return { status: r.status, text: (await r.text()).trim() };
}

function onPort(listener: Record<string, unknown>, port: number): Record<string, unknown> {
  return { ...listener, address: { socket_address: { address: '127.0.0.1', port_value: port } } };
}

describe('start-up warming', () => {
  it('without ADS: listeners refuse connections until the static clusters had their first health-check round', async () => {
    const app = await startHeldUpstream('app');
    cleanup.push(() => app.close());
    const port = await freePort();
    const proxy = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            onPort(
              httpListener('http', anyHostRoutes([{ match: { prefix: '/' }, route: { cluster: 'app' } }])),
              port,
            ),
          ],
          clusters: [
            staticCluster('app', [app.port], {
              health_checks: [
                {
                  timeout: '10s',
                  interval: '0.05s',
                  no_traffic_interval: '0.05s',
                  healthy_threshold: 1,
                  unhealthy_threshold: 1,
                  http_health_check: { path: '/healthz' },
                },
              ],
            }),
          ],
        },
      },
      { logLevel: 'off' },
    );
    cleanup.push(() => proxy.stop());

    await app.firstCheck;
    expect(await connectOutcome(port)).toBe('refused');
    expect(proxy.listenerAddress('http')).toBeUndefined();
    expect(await ready(proxy)).toEqual({ status: 503, text: 'INITIALIZING' });
    expect(proxy.stats.value('server.state')).toBe(3);
    expect(proxy.isReady).toBe(false);

    app.release();
    await proxy.waitReady();
    expect(proxy.listenerAddress('http')?.port).toBe(port);
    expect(await ready(proxy)).toEqual({ status: 200, text: 'LIVE' });
    expect(proxy.stats.value('server.state')).toBe(0);
    // The first request finds the host already healthy.
    expect(await get(port, '/')).toMatchObject({ status: 200, text: 'app' });
  });

  it('with ADS: a static listener waits for CDS and LDS, each bounded by its initial_fetch_timeout', async () => {
    // The server answers nothing: the start carries on after the CDS, then the LDS timeout.
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const port = await freePort();
    const bootstrap = adsBootstrap(ads.port) as {
      dynamicResources: Record<string, Record<string, unknown>>;
      staticResources: Record<string, unknown>;
    };
    bootstrap.dynamicResources['cdsConfig'] = {
      ads: {},
      resourceApiVersion: 'V3',
      initialFetchTimeout: '1s',
    };
    bootstrap.dynamicResources['ldsConfig'] = {
      ads: {},
      resourceApiVersion: 'V3',
      initialFetchTimeout: '0.2s',
    };
    bootstrap.staticResources['listeners'] = [
      onPort(
        httpListener(
          'static',
          anyHostRoutes([
            { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'up' } } },
          ]),
        ),
        port,
      ),
    ];
    const proxy = await startProxy(bootstrap, { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    expect(await connectOutcome(port)).toBe('refused');
    expect(await ready(proxy)).toEqual({ status: 503, text: 'INITIALIZING' });

    await proxy.waitReady();
    // LDS was asked for only once CDS gave up; neither ever answered.
    expect(ads.requests.some((r) => r.typeUrl === TypeUrl.Listener)).toBe(true);
    expect(proxy.stats.value('cluster_manager.cds.update_success')).toBe(0);
    expect(await get(port, '/')).toMatchObject({ status: 200, text: 'up' });
    expect(await ready(proxy)).toEqual({ status: 200, text: 'LIVE' });
  });

  it('a rejected first CDS response ends its wait, as Envoy (even with initial_fetch_timeout 0s)', async () => {
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const port = await freePort();
    const bootstrap = adsBootstrap(ads.port) as { dynamicResources: Record<string, Record<string, unknown>> };
    bootstrap.dynamicResources['cdsConfig'] = {
      ads: {},
      resourceApiVersion: 'V3',
      initialFetchTimeout: '0s',
    };
    // A health check without interval and timeout: the whole CDS response is NACKed.
    ads.set(
      TypeUrl.Cluster,
      [edsCluster('bad', { healthChecks: [{ httpHealthCheck: { path: '/' } }] })],
      'c1',
    );
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')], 'l1');
    ads.set(
      TypeUrl.RouteConfiguration,
      [
        {
          name: 'r1',
          virtualHosts: [
            {
              name: 'all',
              domains: ['*'],
              routes: [{ match: { prefix: '/' }, directResponse: { status: 204 } }],
            },
          ],
        },
      ],
      'r1',
    );
    const proxy = await startProxy(bootstrap, { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    expect(proxy.stats.value('cluster_manager.cds.update_rejected')).toBeGreaterThan(0);
    expect((await get(port, '/')).status).toBe(204);
  });

  it('RDS initial_fetch_timeout: a listener whose routes never come serves 404 NR, then the routes once they arrive', async () => {
    const app = await startEcho('app');
    cleanup.push(() => app.close());
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const port = await freePort();
    ads.set(TypeUrl.Cluster, [edsCluster('svc')], 'c1');
    ads.set(TypeUrl.ClusterLoadAssignment, [assignment('svc', [app.port])], 'e1');
    const listener = rdsListener('http', port, 'r1');
    const hcm = (
      listener as { filterChains: { filters: { typedConfig: { rds: Record<string, unknown> } }[] }[] }
    ).filterChains[0]!.filters[0]!.typedConfig;
    hcm.rds = {
      ...hcm.rds,
      configSource: { ads: {}, resourceApiVersion: 'V3', initialFetchTimeout: '0.2s' },
    };
    ads.set(TypeUrl.Listener, [listener], 'l1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    expect(proxy.listenerManager.warmingNames()).toEqual([]);
    expect((await get(port, '/')).status).toBe(404);
    expect(proxy.stats.value('http.http.response_flag.NR')).toBe(1);

    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc')], 'r1');
    await ads.waitForRequest((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.versionInfo === 'r1');
    expect(await get(port, '/')).toMatchObject({ status: 200 });
  });

  it('EDS initial_fetch_timeout: a cluster whose assignment never comes warms with no hosts', async () => {
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const port = await freePort();
    const edsConfig = { ads: {}, resourceApiVersion: 'V3', initialFetchTimeout: '0.2s' };
    ads.set(TypeUrl.Cluster, [edsCluster('svc', { edsClusterConfig: { edsConfig } })], 'c1');
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc')], 'r1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    expect(proxy.clusters.get('svc')?.hosts).toHaveLength(0);
    expect(proxy.stats.value('cluster_manager.eds.update_success')).toBe(0);
    expect((await get(port, '/')).status).toBe(503);
    expect(proxy.stats.value('http.http.response_flag.UH')).toBe(1);
  });
});

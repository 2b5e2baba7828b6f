// Listeners bound at creation and /listeners as Envoy's: a port-0 listener has its port during the
// start (listed by /listeners, connections refused: bound but not listening) and keeps it when it
// starts serving; after the start /listeners lists the active listeners only, a warming one is in
// /config_dump's dynamic listeners with a warming_state. Real sockets; the start is held by a
// health check the test answers.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy } from '../src/index.js';
import { ADMIN, anyHostRoutes, get, httpListener, startEcho, staticCluster } from './helpers/upstreams.js';
import { adsBootstrap, rdsListener } from './helpers/xds-resources.js';
import { startHeldUpstream } from './helpers/held-upstream.js';
import { nextXds } from './helpers/xds-events.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const cleanup = cleanupAfterEach();

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

async function admin(proxy: RunningProxy, path: string): Promise<string> {
  return (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}${path}`)).text();
}

interface Statuses {
  listener_statuses: {
    name: string;
    local_address: { socket_address: { address: string; port_value: number } };
  }[];
}

describe('listeners bound at creation, /listeners', () => {
  it('a port-0 listener has its port during the start, refuses connections, and serves on it after', async () => {
    const app = await startHeldUpstream('app');
    cleanup.push(() => app.close());
    const proxy = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            httpListener('http', anyHostRoutes([{ match: { prefix: '/' }, route: { cluster: 'app' } }])),
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
    expect(proxy.isReady).toBe(false);
    const during = JSON.parse(await admin(proxy, '/listeners?format=json')) as Statuses;
    expect(during.listener_statuses).toHaveLength(1);
    const status = during.listener_statuses[0]!;
    expect(status.name).toBe('http');
    expect(status.local_address.socket_address.address).toBe('127.0.0.1');
    const port = status.local_address.socket_address.port_value;
    expect(port).toBeGreaterThan(0);
    expect(await admin(proxy, '/listeners')).toBe(`http::127.0.0.1:${port}\n`);
    // bound, not listening: the kernel refuses connections until the start is over
    expect(await connectOutcome(port)).toBe('refused');

    app.release();
    await proxy.waitReady();
    expect(proxy.listenerAddress('http')?.port).toBe(port);
    expect(await get(port, '/')).toMatchObject({ status: 200, text: 'app' });
    expect(await admin(proxy, '/listeners')).toBe(`http::127.0.0.1:${port}\n`);
  });

  it('after the start, a warming LDS listener is not listed; /config_dump shows its warming_state', async () => {
    const app = await startEcho('app');
    cleanup.push(() => app.close());
    const ads = await startTestAdsServer();
    cleanup.push(() => ads.close());
    const serving = httpListener(
      'serving',
      anyHostRoutes([{ match: { prefix: '/' }, route: { cluster: 'app' } }]),
    );
    ads.set(TypeUrl.Cluster, [staticCluster('app', [app.port])], 'c1');
    ads.set(TypeUrl.Listener, [serving], 'l1');
    const proxy = await startProxy(adsBootstrap(ads.port), { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    const port = proxy.listenerAddress('serving')!.port;

    // A listener whose routes never come (initial_fetch_timeout 0s) warms.
    const warming = rdsListener('waiting', 0, 'never');
    const hcm = (
      warming as { filterChains: { filters: { typedConfig: { rds: Record<string, unknown> } }[] }[] }
    ).filterChains[0]!.filters[0]!.typedConfig;
    hcm.rds = { ...hcm.rds, configSource: { ads: {}, resourceApiVersion: 'V3', initialFetchTimeout: '0s' } };
    const lds = nextXds(proxy, (e) => e.typeUrl === TypeUrl.Listener && e.version === 'l2');
    ads.set(TypeUrl.Listener, [serving, warming], 'l2');
    expect((await lds).accepted).toBe(true);
    expect(proxy.listenerManager.warmingNames()).toEqual(['waiting']);
    expect(await admin(proxy, '/listeners')).toBe(`serving::127.0.0.1:${port}\n`);
    const dump = JSON.parse(await admin(proxy, '/config_dump')) as {
      configs: { dynamic_listeners?: { name: string; warming_state?: object; active_state?: object }[] }[];
    };
    const dynamic = dump.configs.flatMap((c) => c.dynamic_listeners ?? []);
    expect(dynamic.find((l) => l.name === 'waiting')?.warming_state).toBeDefined();
    expect(dynamic.find((l) => l.name === 'serving')?.active_state).toBeDefined();
  });
});

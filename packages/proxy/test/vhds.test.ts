// skein-proxy's VHDS client against the in-process ADS server on delta xDS: a route
// configuration whose `vhds` points at ADS takes its virtual hosts from VHDS (subscribed by the
// route configuration's name); a changed virtual host replaces the old one, a removed one goes
// (delta removed_resources), and a bad one is NACKed with error_detail naming it while requests
// keep using the last good virtual hosts.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer } from '../src/index.js';
import { get, startEcho } from './helpers/upstreams.js';
import { adsBootstrap, assignment, edsCluster, rdsListener } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { nextXds } from './helpers/xds-events.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const VHDS = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
const cleanup = cleanupAfterEach();

const vhost = (host: string, cluster: string, match: Record<string, unknown> = { prefix: '/' }) => ({
  name: `r1/${host}`,
  domains: [host],
  routes: [{ match, route: { cluster } }],
});

describe('VHDS client (delta ADS)', () => {
  it('merges virtual hosts into the route table, replaces, removes and NACKs a bad one', async () => {
    const [a, b] = [await startEcho('a'), await startEcho('b')];
    const ads = await startTestAdsServer();
    cleanup.push(
      () => a.close(),
      () => b.close(),
      () => ads.close(),
    );
    const port = await freePort();
    ads.set(TypeUrl.Cluster, [edsCluster('svc-a'), edsCluster('svc-b')], 'c1');
    ads.set(
      TypeUrl.ClusterLoadAssignment,
      [assignment('svc-a', [a.port]), assignment('svc-b', [b.port])],
      'e1',
    );
    ads.set(TypeUrl.Listener, [rdsListener('http', port, 'r1')], 'l1');
    ads.set(TypeUrl.RouteConfiguration, [{ name: 'r1', vhds: { configSource: { ads: {} } } }], 'r1');
    ads.set(VHDS, [vhost('one', 'svc-a'), vhost('two', 'svc-b'), vhost('*', 'svc-a')], 'v1');
    const proxy = await startProxy(adsBootstrap(ads.port), {
      deltaXds: true,
      logLevel: 'off',
      xdsBackoffMs: { base: 50, max: 200 },
    });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    const name = async (host: string): Promise<string> =>
      (JSON.parse((await get(port, '/', { host })).text) as { name: string }).name;

    // Subscribed by the route configuration's name, after RDS.
    const sub = await ads.waitForRequest((r) => r.typeUrl === VHDS && r.resourceNames.length > 0);
    expect(sub.resourceNames).toEqual(['r1']);
    expect(await name('one')).toBe('a');
    expect(await name('two')).toBe('b');

    // A changed virtual host replaces the old one.
    let applied = nextXds(proxy, (e) => e.typeUrl === VHDS && e.accepted);
    ads.set(VHDS, [vhost('one', 'svc-b'), vhost('two', 'svc-b'), vhost('*', 'svc-a')], 'v2');
    await applied;
    expect(await name('one')).toBe('b');

    // Removed: host two falls through to the catch-all virtual host.
    applied = nextXds(proxy, (e) => e.typeUrl === VHDS && e.accepted);
    ads.set(VHDS, [vhost('one', 'svc-b'), vhost('*', 'svc-a')], 'v3');
    await applied;
    expect(await name('two')).toBe('a');
    expect(proxy.configDump()).not.toContain('r1/two');

    // A bad virtual host: NACK naming it, everything else as it was.
    const rejected = nextXds(proxy, (e) => e.typeUrl === VHDS && !e.accepted);
    ads.set(
      VHDS,
      [vhost('one', 'svc-a'), vhost('two', 'svc-b', { safeRegex: { regex: '(?=x)' } }), vhost('*', 'svc-a')],
      'v4',
    );
    expect((await rejected).error).toMatch(/virtual host r1\/two/);
    const nack = await ads.waitForRequest((r) => r.typeUrl === VHDS && r.errorDetail !== undefined);
    expect(nack.errorDetail?.message).toMatch(/virtual host r1\/two: .*RE2/);
    // Not even the good part of the rejected update (one → svc-a) was applied.
    expect(await name('one')).toBe('b');
    expect(await name('two')).toBe('a');
  });
});

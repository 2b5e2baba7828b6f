// The xDS client against the in-process test ADS server: subscription order and warming, ACK and
// NACK with error_detail, last good config kept, reconnect and resync, state of the world and delta.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy, startTestAdsServer, type RunningProxy, type TestAdsServer } from '../src/index.js';
import { get, startEcho, type Echo } from './helpers/upstreams.js';
import { adsBootstrap, assignment, edsCluster, rdsListener, routeTo } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { nextXds } from './helpers/xds-events.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const cleanup = cleanupAfterEach();

async function setup(
  delta: boolean,
): Promise<{ ads: TestAdsServer; proxy: RunningProxy; a: Echo; b: Echo; port: number }> {
  const a = await startEcho('a');
  const b = await startEcho('b');
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
  ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc-a')], 'r1');
  const proxy = await startProxy(adsBootstrap(ads.port), {
    deltaXds: delta,
    logLevel: 'off',
    xdsBackoffMs: { base: 50, max: 200 },
  });
  cleanup.push(() => proxy.stop());
  await proxy.waitReady();
  return { ads, proxy, a, b, port };
}

describe.each([false, true])('ADS (delta=%s)', (delta) => {
  it('subscribes CDS, EDS, LDS, RDS in order, ACKs, and routes by the served config', async () => {
    const { ads, port } = await setup(delta);
    const order = [...new Set(ads.requests.map((r) => r.typeUrl))];
    expect(order).toEqual([
      TypeUrl.Cluster,
      TypeUrl.ClusterLoadAssignment,
      TypeUrl.Listener,
      TypeUrl.RouteConfiguration,
    ]);
    expect(ads.requests[0]?.node?.id).toBe('sidecar~127.0.0.1~client.default~default.svc.cluster.local');
    expect(JSON.parse((await get(port, '/')).text).name).toBe('a');
    if (!delta) {
      // Every response was ACKed with its version.
      const acks = ads.requests
        .filter((r) => r.responseNonce !== '' && !r.errorDetail)
        .map((r) => r.versionInfo);
      expect(acks).toEqual(expect.arrayContaining(['c1', 'e1', 'l1', 'r1']));
    }
  });

  it('applies a later update', async () => {
    const { ads, proxy, port } = await setup(delta);
    const applied = nextXds(proxy, (e) => e.typeUrl === TypeUrl.RouteConfiguration && e.accepted);
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc-b')], 'r2');
    await applied;
    expect(JSON.parse((await get(port, '/')).text).name).toBe('b');
  });

  it('NACKs an invalid resource with error_detail and keeps serving the last good config', async () => {
    const { ads, proxy, port } = await setup(delta);
    const rejected = nextXds(proxy, (e) => e.typeUrl === TypeUrl.RouteConfiguration && !e.accepted);
    const bad = {
      name: 'r1',
      virtualHosts: [
        {
          name: 'x',
          domains: ['*'],
          routes: [{ match: { safeRegex: { regex: '(?=lookahead)' } }, route: { cluster: 'svc-b' } }],
        },
      ],
    };
    ads.set(TypeUrl.RouteConfiguration, [bad], 'r-bad');
    const e = await rejected;
    expect(e.error).toMatch(/route configuration r1/);
    const nack = await ads.waitForRequest(
      (r) => r.typeUrl === TypeUrl.RouteConfiguration && r.errorDetail !== undefined,
    );
    expect(nack.errorDetail?.message).toMatch(/invalid RE2 regex/);
    if (!delta) expect(nack.versionInfo).toBe('r1');
    expect(JSON.parse((await get(port, '/')).text).name).toBe('a');
    const dump = JSON.parse(proxy.configDump()) as {
      configs: { dynamic_route_configs?: { version_info: string }[] }[];
    };
    expect(dump.configs[3]?.dynamic_route_configs?.[0]?.version_info).toBe('r1');
  });

  it('keeps serving while the xDS server is down, then reconnects and resynchronises', async () => {
    const { ads, proxy, port } = await setup(delta);
    const before = ads.requests.length;
    ads.dropStreams();
    // Still serving from the last good configuration.
    expect(JSON.parse((await get(port, '/')).text).name).toBe('a');
    // The proxy reconnects (backoff 50–200 ms here) and resubscribes; the server's newer config arrives.
    const resynced = nextXds(proxy, (e) => e.typeUrl === TypeUrl.RouteConfiguration && e.accepted);
    ads.set(TypeUrl.RouteConfiguration, [routeTo('r1', 'svc-b')], 'r3');
    await resynced;
    expect(ads.requests.length).toBeGreaterThan(before);
    expect(proxy.stats.value('control_plane.disconnected_total')).toBe(1);
    expect(proxy.stats.value('control_plane.connected_total')).toBe(2);
    expect(JSON.parse((await get(port, '/')).text).name).toBe('b');
  });
});

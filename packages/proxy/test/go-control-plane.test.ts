// Driven by a third-party xDS server: go-control-plane (built from the Go module proxy by the
// test) serves Cluster/ClusterLoadAssignment/Listener/RouteConfiguration over ADS, then a later
// update; the proxy ACKs and routes accordingly, over state of the world and delta.
import { describe, expect, it } from 'vitest';
import { TypeUrl } from '@skein/api-types';
import { startProxy } from '../src/index.js';
import { get, startEcho } from './helpers/upstreams.js';
import { adsBootstrap } from './helpers/xds-resources.js';
import { freePort } from './helpers/free-port.js';
import { nextXds } from './helpers/xds-events.js';
import { buildGoControlPlane, hasGo, startGoControlPlane } from './helpers/go-control-plane.js';
import { cleanupAfterEach } from './helpers/cleanup.js';

const cleanup = cleanupAfterEach();

// Skipped only where the Go toolchain is missing (it is on every machine of this project's kind).
describe.skipIf(!hasGo())('go-control-plane drives skein-proxy', () => {
  it('builds the server (cached outside the work tree)', { timeout: 600_000 }, () => {
    expect(buildGoControlPlane()).toMatch(/go-control-plane-v0\.14\.0-/);
  });

  it.each(['GRPC', 'DELTA_GRPC'])('serves fixed resources and a later update over %s', async (apiType) => {
    const a = await startEcho('a');
    const b = await startEcho('b');
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );
    const port = await freePort();
    const gcp = await startGoControlPlane([
      '-node',
      'gcp-node',
      '-listener-port',
      String(port),
      '-upstream-a',
      String(a.port),
      '-upstream-b',
      String(b.port),
    ]);
    cleanup.push(() => gcp.stop());
    const bootstrap = adsBootstrap(gcp.port) as {
      node: { id: string };
      dynamicResources: { adsConfig: { apiType: string } };
    };
    bootstrap.node.id = 'gcp-node';
    bootstrap.dynamicResources.adsConfig.apiType = apiType;
    const proxy = await startProxy(bootstrap, { logLevel: 'off' });
    cleanup.push(() => proxy.stop());
    await proxy.waitReady();
    expect(JSON.parse((await get(port, '/x')).text).name).toBe('a');
    await gcp.waitForLine(new RegExp(`^ack ${TypeUrl.RouteConfiguration.replace(/\./g, '\\.')}`));

    const updated = nextXds(proxy, (e) => e.typeUrl === TypeUrl.RouteConfiguration && e.accepted);
    gcp.send('route b');
    await updated;
    expect(JSON.parse((await get(port, '/x')).text).name).toBe('b');
    expect(gcp.lines.filter((l) => l.startsWith('nack'))).toEqual([]);
  });
});

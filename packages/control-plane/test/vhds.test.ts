// VHDS end to end: skeind in directory mode and a real skein-proxy sidecar that opts in (delta
// ADS, node metadata SKEIN_VHDS). Requests flow through the sidecar's bound egress listener the
// whole time a VirtualService is written and then edited; each edit reaches the proxy as a VHDS
// update of one virtual host (no RDS update), and not one request fails.
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackMesh, type LoopbackMesh } from './support/loopback-mesh.js';
import { testConfigDir } from './support/config-dir.js';
import { loopbackBase, proxyBuilt, until } from './support/sidecar-proxy.js';
import { startSidecar, type Sidecar } from './support/sidecar-proxy.js';

const NS = 'demo';
const HOST = `web.${NS}.svc.cluster.local`;
const PORT = 9080;
const base = loopbackBase();
const appIp = `${base}.11`;
const clientIp = `${base}.20`;
const VHDS = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';

const config = (appPort: number): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: ${NS} }
spec:
  hosts: [${HOST}]
  ports: [{ number: ${PORT}, name: http, targetPort: ${appPort} }]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints: [{ address: ${appIp} }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: other, namespace: ${NS} }
spec:
  hosts: [other.${NS}.svc.cluster.local]
  ports: [{ number: ${PORT}, name: http }]
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints: [{ address: ${appIp} }]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: client, namespace: ${NS} }
spec:
  workloadSelector: { labels: { app: client } }
  egress:
    - port: { number: ${PORT}, name: http, protocol: HTTP }
      bind: ${clientIp}
      captureMode: NONE
      hosts: [./*]
`;

const virtualService = (tag: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: ${NS} }
spec:
  hosts: [${HOST}]
  http:
  - headers: { response: { set: { x-route: ${tag} } } }
    route: [{ destination: { host: ${HOST} } }]
`;

describe.skipIf(!proxyBuilt)('VHDS with a real skein-proxy (build the proxy first)', () => {
  const { dir, configDir, write, remove } = testConfigDir('skein-vhds-');
  let app: Server;
  let mesh: LoopbackMesh;
  let client: Sidecar;

  const get = (): Promise<{ status: number; route: string | undefined }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: clientIp, port: PORT, path: '/', headers: { host: `${HOST}:${PORT}` }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, route: res.headers['x-route'] as string | undefined }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  const stat = async (name: string): Promise<number> => {
    const text = await client.admin('/stats');
    const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
    return Number(line?.split(':')[1]?.trim() ?? 0);
  };

  beforeAll(async () => {
    app = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => app.listen(0, appIp, r));
    write('mesh.yaml', config((app.address() as AddressInfo).port));
    mesh = await startLoopbackMesh({ configDir, dir, namespace: NS, pods: [] });
    client = await startSidecar({
      name: 'client',
      namespace: NS,
      ip: clientIp,
      labels: { app: 'client' },
      xds: mesh.xds,
      dir,
      vhds: true,
    });
  }, 90_000);

  afterAll(async () => {
    await client?.stop();
    await mesh?.stop();
    app?.closeAllConnections();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    remove();
  });

  it('takes VirtualService edits through VHDS while requests flow, none failing', async () => {
    await until('a request through the sidecar', async () => (await get()).status === 200);
    // skeind serves this proxy VHDS, and the proxy's route table holds both services' hosts.
    const proxy = mesh.cp.syncz().proxies.find((p) => p.proxyId.includes('client'));
    expect(proxy?.protocol).toBe('delta');
    expect(proxy?.types.find((t) => t.typeUrl === VHDS)?.status).toBe('SYNCED');
    const dump = await client.admin('/config_dump');
    expect(dump).toContain(`${PORT}/${HOST}:${PORT}`);
    expect(dump).toContain(`${PORT}/other.${NS}.svc.cluster.local:${PORT}`);

    const failures: string[] = [];
    let running = true;
    const seen = new Set<string>();
    const traffic = (async () => {
      while (running) {
        const r = await get().catch((e: unknown) => ({ status: -1, route: String(e) }));
        if (r.status !== 200) failures.push(`${r.status} ${r.route ?? ''}`);
        else seen.add(r.route ?? '-');
      }
    })();
    const rdsBefore = await stat('cluster_manager.rds.update_success');
    const vhdsBefore = await stat('cluster_manager.vhds.update_success');
    try {
      // The traffic is flowing before the first edit and is still flowing after the last.
      await until('traffic before the edits', () => Promise.resolve(seen.has('-')));
      write('vs.yaml', virtualService('v1'));
      await until('x-route v1', async () => (await get()).route === 'v1');
      write('vs.yaml', virtualService('v2'));
      await until('x-route v2', async () => (await get()).route === 'v2');
      await until('traffic after the edits', () => Promise.resolve(seen.has('v2')));
    } finally {
      running = false;
      await traffic;
    }
    expect(failures).toEqual([]);
    // The edits came as VHDS updates; the route configuration itself was not resent.
    expect(await stat('cluster_manager.vhds.update_success')).toBeGreaterThanOrEqual(vhdsBefore + 2);
    expect(await stat('cluster_manager.rds.update_success')).toBe(rdsBefore);
  }, 90_000);
});

// VHDS serving with real gRPC clients on loopback: a delta sidecar that sets SKEIN_VHDS gets its
// route configuration without virtual hosts and the virtual hosts over VHDS; a VirtualService
// change then sends that one virtual host and does not resend the unchanged route configuration;
// a proxy that does not opt in (SotW, or delta without the metadata) keeps whole route configs;
// after a push of other types (endpoints) a VS change re-encodes the changed virtual host only.
import { TypeUrl } from '@skein/api-types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdsClient } from '../../test/support/ads-client.js';
import { objectsFromYaml } from '../../test/support/translate.js';
import { createLogger } from '../log.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { buildSnapshot, type Snapshot } from '../model/snapshot.js';
import { VIRTUAL_HOST_TYPE } from '../translate/vhds.js';
import { XdsServer } from './ads-server.js';
import { XdsMetrics } from './metrics.js';
import { ResourceEncoder } from './resource-encoder.js';

const service = (
  name: string,
  n: number,
  endpoint = `10.1.0.${n}`,
): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: one }
spec:
  hosts: [${name}.one.svc.cluster.local]
  addresses: [240.0.0.${n}]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: ${endpoint} }]
`;
const timeoutVs = (t: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: a, namespace: one }
spec:
  hosts: [a.one.svc.cluster.local]
  http: [{ timeout: ${t}, route: [{ destination: { host: a.one.svc.cluster.local } }] }]
`;

let versions = 0;
const world = (vs?: string, aEndpoint?: string): Snapshot =>
  buildSnapshot({
    version: String(++versions),
    mesh: DEFAULT_MESH_CONFIG,
    objects: objectsFromYaml(
      [service('a', 1, aEndpoint), service('b', 2), ...(vs ? [vs] : [])].join('---\n'),
    ),
  });

const A = '80/a.one.svc.cluster.local:80';
const B = '80/b.one.svc.cluster.local:80';

describe('VHDS serving', () => {
  const clients: AdsClient[] = [];
  let server: XdsServer | undefined;
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
  });

  const connect = (address: string, ip: string, delta: boolean, vhds: boolean): AdsClient => {
    const c = new AdsClient({
      address,
      delta,
      nodeId: `sidecar~${ip}~pod-${ip}.one~one.svc.cluster.local`,
      metadata: { NAMESPACE: 'one', ...(vhds ? { SKEIN_VHDS: 'true' } : {}) },
    });
    clients.push(c);
    return c;
  };
  const responses = (c: AdsClient, t: string): number => c.types.get(t)?.responses ?? 0;

  it('serves virtual hosts over VHDS to opted-in delta sidecars and only the changed one on a VS edit', async () => {
    let snap = world();
    server = new XdsServer({ snapshot: () => snap, metrics: new XdsMetrics(), log: createLogger('none') });
    const address = await server.listen('127.0.0.1:0');
    const vhds = connect(address, '10.9.0.1', true, true);
    const sotw = connect(address, '10.9.0.2', false, true);
    const plainDelta = connect(address, '10.9.0.3', true, false);

    await vhds.until((c) => c.resource(VIRTUAL_HOST_TYPE, A) !== undefined);
    const rc = vhds.resource(TypeUrl.RouteConfiguration, '80');
    expect(rc?.['vhds']).toEqual({ configSource: { ads: {}, resourceApiVersion: 'V3' } });
    expect(rc?.['virtualHosts']).toBeUndefined();
    expect([...(vhds.types.get(VIRTUAL_HOST_TYPE)?.resources.keys() ?? [])].sort()).toEqual([
      A,
      '80/allow_any',
      B,
    ]);
    expect(vhds.resource(VIRTUAL_HOST_TYPE, A)?.['domains']).toContain('a.one.svc.cluster.local');

    // Not opted in (SotW with the metadata, or delta without it): whole route configurations.
    for (const c of [sotw, plainDelta]) {
      await c.until((x) => x.resource(TypeUrl.RouteConfiguration, '80') !== undefined);
      const whole = c.resource(TypeUrl.RouteConfiguration, '80');
      expect(whole?.['vhds']).toBeUndefined();
      expect((whole?.['virtualHosts'] as unknown[]).length).toBe(3);
      expect(c.types.has(VIRTUAL_HOST_TYPE)).toBe(false);
    }
    const synced = () =>
      server?.connections.every((c) =>
        [...c.types.values()].every((s) => s.sentNonce === '' || s.ackedNonce === s.sentNonce),
      );
    await expect.poll(synced).toBe(true);

    // A VirtualService on a: the VHDS client gets a's virtual host alone, no RDS response.
    const before = {
      rds: responses(vhds, TypeUrl.RouteConfiguration),
      vh: responses(vhds, VIRTUAL_HOST_TYPE),
    };
    const wholeBefore = responses(sotw, TypeUrl.RouteConfiguration);
    snap = world(timeoutVs('7s'));
    server.push({
      full: false,
      hosts: new Set(['a.one.svc.cluster.local']),
      types: [TypeUrl.Listener, TypeUrl.RouteConfiguration, VIRTUAL_HOST_TYPE],
      changeAt: Date.now(),
      reason: 'VirtualService',
    });
    await vhds.until((c) => responses(c, VIRTUAL_HOST_TYPE) > before.vh);
    expect(vhds.types.get(VIRTUAL_HOST_TYPE)?.last.resources).toBe(1);
    expect(JSON.stringify(vhds.resource(VIRTUAL_HOST_TYPE, A))).toContain('"timeout":"7s"');
    await sotw.until((c) => responses(c, TypeUrl.RouteConfiguration) > wholeBefore);
    expect(JSON.stringify(sotw.resource(TypeUrl.RouteConfiguration, '80'))).toContain('"timeout":"7s"');
    await expect.poll(synced).toBe(true);
    expect(responses(vhds, TypeUrl.RouteConfiguration)).toBe(before.rds);

    // The service b goes: its virtual host is removed over VHDS (delta removed_resources).
    const n = responses(vhds, VIRTUAL_HOST_TYPE);
    snap = buildSnapshot({
      version: String(++versions),
      mesh: DEFAULT_MESH_CONFIG,
      objects: objectsFromYaml([service('a', 1), timeoutVs('7s')].join('---\n')),
    });
    server.push({ full: true, hosts: new Set(), changeAt: Date.now(), reason: 'test' });
    await vhds.until(
      (c) => responses(c, VIRTUAL_HOST_TYPE) > n && c.resource(VIRTUAL_HOST_TYPE, B) === undefined,
    );
    expect(vhds.resource(VIRTUAL_HOST_TYPE, A)).toBeDefined();
  });

  it('re-encodes only the changed virtual host of a VS edit that follows an endpoint-only push', async () => {
    let snap = world();
    server = new XdsServer({ snapshot: () => snap, metrics: new XdsMetrics(), log: createLogger('none') });
    const address = await server.listen('127.0.0.1:0');
    const [c1, c2] = [connect(address, '10.9.0.1', true, true), connect(address, '10.9.0.2', true, true)];
    for (const c of [c1, c2]) await c.until((x) => x.resource(VIRTUAL_HOST_TYPE, B) !== undefined);
    const push = (types: string[]) =>
      server?.push({
        full: false,
        hosts: new Set(['a.one.svc.cluster.local']),
        types,
        changeAt: Date.now(),
        reason: 'test',
      });
    // An endpoint change: a snapshot at which no virtual host list is generated.
    const eds = responses(c1, TypeUrl.ClusterLoadAssignment);
    snap = world(undefined, '10.1.0.9');
    push([TypeUrl.ClusterLoadAssignment]);
    await c1.until((x) => responses(x, TypeUrl.ClusterLoadAssignment) > eds);
    // Then a VirtualService on a: the class's list is patched from the one its streams hold.
    const encode = vi.spyOn(ResourceEncoder.prototype, 'encode');
    try {
      const vh = [c1, c2].map((c) => responses(c, VIRTUAL_HOST_TYPE));
      snap = world(timeoutVs('9s'), '10.1.0.9');
      push([TypeUrl.RouteConfiguration, VIRTUAL_HOST_TYPE]);
      for (const [i, c] of [c1, c2].entries())
        await c.until((x) => responses(x, VIRTUAL_HOST_TYPE) > (vh[i] ?? 0));
      const encoded = encode.mock.calls.filter(([t]) => t === VIRTUAL_HOST_TYPE).map(([, r]) => r.name);
      expect(encoded).toEqual([A]);
    } finally {
      encode.mockRestore();
    }
    for (const c of [c1, c2]) {
      expect(c.types.get(VIRTUAL_HOST_TYPE)?.last.resources).toBe(1);
      expect(JSON.stringify(c.resource(VIRTUAL_HOST_TYPE, A))).toContain('"timeout":"9s"');
      expect(c.resource(VIRTUAL_HOST_TYPE, B)).toBeDefined();
    }
  });

  it('answers an on-demand <route config>/<host> subscription with the virtual host serving it', async () => {
    const snap = world();
    server = new XdsServer({ snapshot: () => snap, metrics: new XdsMetrics(), log: createLogger('none') });
    const address = await server.listen('127.0.0.1:0');
    const c = new AdsClient({
      address,
      delta: true,
      follow: false,
      nodeId: 'sidecar~10.9.0.5~pod.one~one.svc.cluster.local',
      metadata: { NAMESPACE: 'one', SKEIN_VHDS: 'true' },
      subscribe: { [VIRTUAL_HOST_TYPE]: ['80/a.one'] },
    });
    clients.push(c);
    await c.until((x) => x.resource(VIRTUAL_HOST_TYPE, A) !== undefined);
    expect([...(c.types.get(VIRTUAL_HOST_TYPE)?.resources.keys() ?? [])]).toEqual([A]);
    const s = server.connections[0]?.types.get(VIRTUAL_HOST_TYPE);
    expect(s?.aliases?.get(A)).toEqual(['80/a.one']);
  });
});

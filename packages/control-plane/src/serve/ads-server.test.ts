// The ADS server's caches and fan-out with real gRPC clients on loopback: a proxy class's
// response is encoded once and shared, a push reaches only the classes it concerns, SotW EDS
// sends only changed load assignments relative to what the proxy last accepted (so a NACKed
// one is sent again), a send budget smaller than one response still delivers everything, and
// the contexts built ahead for a snapshot are used only once it is current.
import { TypeUrl } from '@skein/api-types';
import { afterEach, describe, expect, it } from 'vitest';
import { AdsClient } from '../../test/support/ads-client.js';
import { objectsFromYaml } from '../../test/support/translate.js';
import { createLogger } from '../log.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { buildSnapshot, type Snapshot } from '../model/snapshot.js';
import { XdsServer } from './ads-server.js';
import { XdsMetrics } from './metrics.js';
import type { PushRequest } from './push-scope.js';

const service = (
  name: string,
  ns: string,
  ip: string,
  extra = '',
): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: [${name}.${ns}.svc.cluster.local]
  addresses: [240.0.0.${ip.split('.')[3]}]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: ${ip} }]
${extra}`;

let versions = 0;
const world = (ips: { a?: string; b?: string; c?: string } = {}): Snapshot =>
  buildSnapshot({
    version: String(++versions),
    mesh: DEFAULT_MESH_CONFIG,
    objects: objectsFromYaml(
      [
        service('a', 'one', ips.a ?? '10.1.0.1'),
        service('b', 'one', ips.b ?? '10.1.0.2'),
        // Visible only in namespace two: proxies in one are a different class and never see it.
        service('c', 'two', ips.c ?? '10.2.0.1', '  exportTo: ["."]\n'),
      ].join('---\n'),
    ),
  });

const cla = (host: string) => `outbound|80||${host}.svc.cluster.local`;
const ALL = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration];
const full = (c: AdsClient) => ALL.every((t) => (c.types.get(t)?.responses ?? 0) > 0);

describe('XdsServer sharing and fan-out', () => {
  const clients: AdsClient[] = [];
  let server: XdsServer | undefined;

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
  });

  const start = async (snap: () => Snapshot, sendBudgetBytes?: number) => {
    server = new XdsServer({
      snapshot: snap,
      metrics: new XdsMetrics(),
      log: createLogger('none'),
      sendBudgetBytes,
    });
    return server.listen('127.0.0.1:0');
  };
  const connect = (address: string, ip: string, ns: string) => {
    const c = new AdsClient({
      address,
      nodeId: `sidecar~${ip}~pod-${ip}.${ns}~${ns}.svc.cluster.local`,
      metadata: { NAMESPACE: ns, LABELS: { app: 'client' } },
    });
    clients.push(c);
    return c;
  };
  const push = (hosts: string[], types?: string[]): PushRequest => ({
    full: false,
    hosts: new Set(hosts.map((h) => `${h}.svc.cluster.local`)),
    types,
    changeAt: Date.now(),
    reason: 'test',
  });
  const sent = (id: string, type: string) =>
    server?.connections.find((c) => c.proxy.ip === id)?.types.get(type)?.sentNonce;

  it('encodes a proxy class’s response once and sends the same bytes to each of its proxies', async () => {
    let snap = world();
    const address = await start(() => snap);
    const [p1, p2, p3] = [
      connect(address, '10.9.0.1', 'one'),
      connect(address, '10.9.0.2', 'one'),
      connect(address, '10.9.0.3', 'two'),
    ];
    await Promise.all([p1, p2, p3].map((c) => c.until(full)));
    const rds = (c: AdsClient) => c.types.get(TypeUrl.RouteConfiguration);
    // Same class: the same response, nonce included (serialized once); another class: its own.
    expect(rds(p1)?.nonce).toBe(rds(p2)?.nonce);
    expect(rds(p1)?.version).toBe(rds(p2)?.version);
    expect(rds(p3)?.version).not.toBe(rds(p1)?.version);
    expect(p3.resource(TypeUrl.ClusterLoadAssignment, cla('c.two'))).toBeDefined();
    expect(p1.resource(TypeUrl.ClusterLoadAssignment, cla('c.two'))).toBeUndefined();

    // A change to c concerns only namespace two's class: one and its cached responses stay.
    const before = {
      p1: sent('10.9.0.1', TypeUrl.ClusterLoadAssignment),
      p3: sent('10.9.0.3', TypeUrl.ClusterLoadAssignment),
    };
    const eds = p3.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0;
    snap = world({ c: '10.2.0.9' });
    expect(server?.push(push(['c.two'], [TypeUrl.ClusterLoadAssignment]))).toBe(1);
    expect(sent('10.9.0.1', TypeUrl.ClusterLoadAssignment)).toBe(before.p1);
    expect(sent('10.9.0.3', TypeUrl.ClusterLoadAssignment)).not.toBe(before.p3);
    await p3.until((c) => (c.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0) > eds);
    expect(JSON.stringify(p3.resource(TypeUrl.ClusterLoadAssignment, cla('c.two')))).toContain('10.2.0.9');
  });

  it('sends SotW EDS changes only, relative to what the proxy last accepted (a NACKed one again)', async () => {
    let snap = world();
    const address = await start(() => snap);
    const edsSizes: number[] = [];
    let nack = false;
    const c = new AdsClient({
      address,
      nodeId: 'sidecar~10.9.0.4~pod.one~one.svc.cluster.local',
      metadata: { NAMESPACE: 'one', LABELS: {} },
      reject: (type, resources) => {
        if (type !== TypeUrl.ClusterLoadAssignment) return undefined;
        edsSizes.push(resources.length);
        return nack ? 'rejected by the test' : undefined;
      },
    });
    clients.push(c);
    await c.until(full);
    await c.until(() => (c.types.get(TypeUrl.ClusterLoadAssignment)?.resources.size ?? 0) === 2);
    const responses = () => c.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0;
    const acked = () => server?.connections[0]?.types.get(TypeUrl.ClusterLoadAssignment);
    await expect.poll(() => acked()?.ackedNonce).toBe(acked()?.sentNonce);
    edsSizes.length = 0;

    // a's endpoint moves: only a's load assignment travels; b's stays with the proxy.
    snap = world({ a: '10.1.0.7' });
    let n = responses();
    server?.push(push(['a.one'], [TypeUrl.ClusterLoadAssignment]));
    await c.until(() => responses() > n);
    expect(edsSizes).toEqual([1]);
    expect(JSON.stringify(c.resource(TypeUrl.ClusterLoadAssignment, cla('a.one')))).toContain('10.1.0.7');
    expect(c.resource(TypeUrl.ClusterLoadAssignment, cla('b.one'))).toBeDefined();
    await expect.poll(() => acked()?.ackedNonce).toBe(acked()?.sentNonce);

    // b moves and the proxy NACKs: it keeps its last accepted config, and skeind knows it.
    nack = true;
    snap = world({ a: '10.1.0.7', b: '10.1.0.8' });
    n = responses();
    server?.push(push(['b.one'], [TypeUrl.ClusterLoadAssignment]));
    await c.until(() => responses() > n);
    await expect.poll(() => acked()?.nack?.nonce).toBe(acked()?.sentNonce);
    expect(JSON.stringify(c.resource(TypeUrl.ClusterLoadAssignment, cla('b.one')))).toContain('10.1.0.2');

    // a moves again: the response carries a and the b the proxy never accepted.
    nack = false;
    snap = world({ a: '10.1.0.9', b: '10.1.0.8' });
    n = responses();
    server?.push(push(['a.one'], [TypeUrl.ClusterLoadAssignment]));
    await c.until(() => responses() > n);
    expect(edsSizes).toEqual([1, 1, 2]);
    expect(JSON.stringify(c.resource(TypeUrl.ClusterLoadAssignment, cla('b.one')))).toContain('10.1.0.8');
    expect(JSON.stringify(c.resource(TypeUrl.ClusterLoadAssignment, cla('a.one')))).toContain('10.1.0.9');
  });

  it('takes the contexts built ahead for a snapshot only when that snapshot becomes current', async () => {
    let snap = world();
    const address = await start(() => snap);
    const cs = [connect(address, '10.9.2.1', 'one'), connect(address, '10.9.2.2', 'two')];
    await Promise.all(cs.map((c) => c.until(full)));
    const eds = () => cs.map((c) => c.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0);
    const arrived = async (before: number[]) =>
      Promise.all(
        cs.map((c, i) =>
          c.until((x) => (x.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0) > (before[i] ?? 0)),
        ),
      );

    // Built ahead for a snapshot that never becomes current: another one is pushed, built anew.
    server?.prepare(world({ a: '10.1.0.3' }));
    let before = eds();
    snap = world({ a: '10.1.0.4' });
    server?.push(push(['a.one'], [TypeUrl.ClusterLoadAssignment]));
    await arrived(before);
    expect(server?.contextsAhead).toBe(0);
    expect(JSON.stringify(cs[0]?.resource(TypeUrl.ClusterLoadAssignment, cla('a.one')))).toContain(
      '10.1.0.4',
    );

    // Built ahead for the snapshot that becomes current: every proxy's is taken, same classes.
    const next = world({ a: '10.1.0.5', c: '10.2.0.5' });
    server?.prepare(next);
    before = eds();
    snap = next;
    server?.push(push(['a.one', 'c.two'], [TypeUrl.ClusterLoadAssignment]));
    await arrived(before);
    expect(server?.contextsAhead).toBe(2);
    expect(JSON.stringify(cs[0]?.resource(TypeUrl.ClusterLoadAssignment, cla('a.one')))).toContain(
      '10.1.0.5',
    );
    expect(JSON.stringify(cs[1]?.resource(TypeUrl.ClusterLoadAssignment, cla('c.two')))).toContain(
      '10.2.0.5',
    );
    expect(cs[0]?.resource(TypeUrl.ClusterLoadAssignment, cla('c.two'))).toBeUndefined();
  });

  it('delivers everything in order with a send budget smaller than one response', async () => {
    let snap = world();
    const address = await start(() => snap, 1);
    const cs = Array.from({ length: 5 }, (_, i) =>
      connect(address, `10.9.1.${i + 1}`, i % 2 ? 'one' : 'two'),
    );
    await Promise.all(cs.map((c) => c.until(full)));
    const before = cs.map((c) => c.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0);
    snap = world({ a: '10.1.0.5' });
    expect(server?.push(push(['a.one'], [TypeUrl.ClusterLoadAssignment]))).toBe(5);
    await Promise.all(
      cs.map((c, i) =>
        c.until((x) => (x.types.get(TypeUrl.ClusterLoadAssignment)?.responses ?? 0) > (before[i] ?? 0)),
      ),
    );
    for (const c of cs)
      expect(JSON.stringify(c.resource(TypeUrl.ClusterLoadAssignment, cla('a.one')))).toContain('10.1.0.5');
    expect(server?.backlog.streams).toBe(0);
  });
});

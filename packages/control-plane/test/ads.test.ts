// skeind in-process with a watched config directory and real gRPC ADS clients on loopback:
// full config, ACK bookkeeping, NACK handling, scoped and endpoint-only pushes, delta xDS and
// the debug endpoints.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeUrl } from '@skein/api-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { indexNameTable, subscribeNameTable, type NameTableJson } from '@skein/agent';
import { AdsClient } from './support/ads-client.js';

const testdata = new URL('../testdata/', import.meta.url).pathname;
const REVIEWS = 'outbound|9080|v1|reviews.default.svc.cluster.local';

describe('ADS serving', () => {
  let dir: string;
  let cp: RunningControlPlane;
  const clients: AdsClient[] = [];
  const client = (
    id: string,
    labels: Record<string, string>,
    extra: Partial<ConstructorParameters<typeof AdsClient>[0]> = {},
  ) => {
    const c = new AdsClient({
      address: cp.xdsAddress,
      nodeId: `sidecar~${id}~pod-${id}.default~default.svc.cluster.local`,
      metadata: { NAMESPACE: 'default', LABELS: labels },
      ...extra,
    });
    clients.push(c);
    return c;
  };
  const full = (c: AdsClient) =>
    [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration].every(
      (t) => (c.types.get(t)?.responses ?? 0) > 0,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skein-ads-'));
    cpSync(join(testdata, 'bookinfo.yaml'), join(dir, 'bookinfo.yaml'));
    writeFileSync(`${dir}-mesh.yaml`, 'outboundTrafficPolicy: { mode: ALLOW_ANY }\n');
    cp = await startControlPlane({
      meshConfigFile: `${dir}-mesh.yaml`,
      configDir: dir,
      xdsAddr: '127.0.0.1:0',
      httpAddr: '127.0.0.1:0',
      debounceMs: 10,
      debounceMaxMs: 100,
      settleMs: 10,
      logLevel: 'none',
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-mesh.yaml`, { force: true });
  });

  it('serves a sidecar its full config and records the ACKs', async () => {
    const c = client('10.0.0.11', { app: 'reviews', version: 'v1' });
    await c.until(full);
    expect(c.resource(TypeUrl.Listener, 'virtualOutbound')).toBeDefined();
    expect(c.resource(TypeUrl.RouteConfiguration, '9080')).toBeDefined();
    const cla = c.resource(TypeUrl.ClusterLoadAssignment, REVIEWS) as {
      endpoints: { lbEndpoints: unknown[] }[];
    };
    expect(cla.endpoints[0]?.lbEndpoints).toHaveLength(1);
    const res = await fetch(`http://${cp.httpAddress}/debug/syncz`);
    const syncz = (await res.json()) as {
      proxies: {
        proxyId: string;
        types: { type: string; status: string; ackedVersion: string; sentVersion: string }[];
      }[];
    };
    const mine = syncz.proxies.find((p) => p.proxyId.includes('10.0.0.11'));
    // The client ACKs after each response; syncz shows every type synced once the ACKs arrive.
    await expect
      .poll(
        () =>
          cp
            .syncz()
            .proxies.find((p) => p.proxyId.includes('10.0.0.11'))
            ?.types.every((t) => t.status === 'SYNCED'),
        { interval: 10 },
      )
      .toBe(true);
    expect(mine?.types.map((t) => t.type).sort()).toEqual(['CDS', 'EDS', 'LDS', 'RDS']);
  });

  it('pushes a VirtualService change as a new RDS version, and only RDS', async () => {
    const c = client('10.0.0.12', { app: 'reviews', version: 'v2' });
    await c.until(full);
    const before = new Map([...c.types].map(([t, v]) => [t, v.responses]));
    const text = readFileSync(join(dir, 'bookinfo.yaml'), 'utf8')
      .replace('weight: 90', 'weight: 50')
      .replace('weight: 10', 'weight: 50');
    writeFileSync(join(dir, 'bookinfo.yaml'), text);
    await c.until(() =>
      JSON.stringify(c.resource(TypeUrl.RouteConfiguration, '9080')).includes('"weight":50'),
    );
    expect(c.types.get(TypeUrl.RouteConfiguration)?.responses).toBe(
      (before.get(TypeUrl.RouteConfiguration) ?? 0) + 1,
    );
    expect(c.types.get(TypeUrl.Cluster)?.responses).toBe(before.get(TypeUrl.Cluster));
    expect(c.types.get(TypeUrl.Listener)?.responses).toBe(before.get(TypeUrl.Listener));
  });

  it('records a NACK, counts it, and does not resend the rejected config', async () => {
    let rejectRoutes = true;
    const c = client(
      '10.0.0.13',
      { app: 'productpage' },
      {
        reject: (t) =>
          t === TypeUrl.RouteConfiguration && rejectRoutes ? 'route rejected by test' : undefined,
      },
    );
    await c.until(full);
    const rds = () =>
      cp
        .syncz()
        .proxies.find((p) => p.proxyId.includes('10.0.0.13'))
        ?.types.find((t) => t.type === 'RDS');
    await expect.poll(() => rds()?.status, { interval: 10 }).toBe('NACKED');
    expect(rds()?.nack?.message).toBe('route rejected by test');
    expect(c.types.get(TypeUrl.RouteConfiguration)?.version).toBe(''); // kept nothing
    const metrics = await (await fetch(`http://${cp.httpAddress}/metrics`)).text();
    expect(metrics).toMatch(/pilot_total_xds_rejects\{type="RDS"\} [1-9]/);
    rejectRoutes = false;
    // The server does not resend the same content after a NACK.
    expect(c.types.get(TypeUrl.RouteConfiguration)?.responses).toBe(1);
  });

  it('sends only EDS when a WorkloadEntry changes, over delta xDS too', async () => {
    const sotw = client('10.0.0.14', { app: 'ratings' });
    const delta = client('10.0.0.15', { app: 'ratings' }, { delta: true });
    await sotw.until(full);
    await delta.until(full);
    const snap = (c: AdsClient) => new Map([...c.types].map(([t, v]) => [t, v.responses]));
    const [b1, b2] = [snap(sotw), snap(delta)];
    writeFileSync(
      join(dir, 'extra.yaml'),
      `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: reviews-v1b, namespace: default }
spec: { address: 10.0.0.16, labels: { app: reviews, version: v1 } }
`,
    );
    const twoEndpoints = (c: AdsClient) =>
      JSON.stringify(c.resource(TypeUrl.ClusterLoadAssignment, REVIEWS)).includes('10.0.0.16');
    await sotw.until(twoEndpoints);
    await delta.until(twoEndpoints);
    for (const [c, b] of [
      [sotw, b1],
      [delta, b2],
    ] as const) {
      expect(c.types.get(TypeUrl.Cluster)?.responses).toBe(b.get(TypeUrl.Cluster));
      expect(c.types.get(TypeUrl.Listener)?.responses).toBe(b.get(TypeUrl.Listener));
      expect(c.types.get(TypeUrl.RouteConfiguration)?.responses).toBe(b.get(TypeUrl.RouteConfiguration));
    }
    // Delta sent only the changed load assignments, not all of them.
    const deltaEds = delta.types.get(TypeUrl.ClusterLoadAssignment);
    expect(deltaEds?.resources.size).toBeGreaterThan(2);
  });

  it("serves the name table to the agent's DNS proxy (NDS)", async () => {
    let table: NameTableJson | undefined;
    const sub = subscribeNameTable({
      address: cp.xdsAddress,
      nodeId: 'sidecar~10.0.0.17~dns.default~default.svc.cluster.local',
      nodeMetadata: { NAMESPACE: 'default' },
      onTable: (t) => (table = t),
    });
    try {
      await expect.poll(() => table, { interval: 10 }).toBeDefined();
      const index = indexNameTable(table!, 'default');
      expect(index.lookup(`${'reviews'}.default.svc.cluster.local.`)).toEqual(['10.96.0.10']);
      expect(index.lookup('mysql.default.svc.cluster.local')).toEqual(['10.96.0.12']);
      expect(index.lookup('example.com')).toBeUndefined();
    } finally {
      sub.close();
    }
  });

  it('applies an edited --mesh-config (REGISTRY_ONLY) with a push', async () => {
    const c = client('10.0.0.18', { app: 'productpage' });
    await c.until(full);
    const outbound = () => JSON.stringify(c.resource(TypeUrl.Listener, 'virtualOutbound') ?? {});
    expect(outbound()).toContain('PassthroughCluster');
    writeFileSync(`${dir}-mesh.yaml`, 'outboundTrafficPolicy: { mode: REGISTRY_ONLY }\n');
    await c.until(() => outbound().includes('BlackHoleCluster'));
    expect(cp.snapshot().mesh.outboundTrafficPolicy.mode).toBe('REGISTRY_ONLY');
  });

  it('serves config_dump and configz, and rejects invalid objects visibly', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: broken, namespace: default }
spec:
  hosts: [ratings]
  http:
  - route:
    - { destination: { host: ratings }, weight: -1 }
`,
    );
    await expect.poll(() => cp.rejected().length, { interval: 20 }).toBeGreaterThan(0);
    const configz = (await (await fetch(`http://${cp.httpAddress}/debug/configz`)).json()) as {
      rejected: { object: string; path: string }[];
    };
    expect(configz.rejected).toContainEqual(
      expect.objectContaining({ path: 'spec.http[0].route[0].weight' }),
    );
    const id = cp.syncz().proxies[0]?.proxyId ?? '';
    const dump = (await (
      await fetch(`http://${cp.httpAddress}/debug/config_dump?proxyID=${encodeURIComponent(id)}`)
    ).json()) as Record<string, unknown[]>;
    expect(Object.keys(dump).sort()).toEqual(['CDS', 'EDS', 'LDS', 'NDS', 'RDS', 'SDS']);
    expect((await fetch(`http://${cp.httpAddress}/ready`)).status).toBe(200);
  });
});

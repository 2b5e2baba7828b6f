// Incremental translation equals recomputation: random sequences of edits to services (ports,
// endpoints, WorkloadEntries),
// VirtualServices (weights, sourceLabels, mirrors, delegates), DestinationRules (consistent hash,
// workload selectors) and Sidecars, each snapshot built from the edited object list (unchanged
// objects keep their identity, as in the config store), and every proxy's route configurations
// generated with the memos carried across snapshots — route configurations, VHDS resources, load
// assignments — must equal those generated from scratch.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/support/seeded-random.js';
import { proxy } from '../../test/support/translate.js';
import type { ConfigObject } from '../model/istio-types.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { buildSnapshot, type Snapshot } from '../model/snapshot.js';
import { translateContext } from './context.js';
import { sidecarRouteConfigs } from './route-configs.js';
import { EndpointsMemo } from './endpoints-memo.js';
import { endpointsFor, loadAssignments } from './endpoints.js';
import { VirtualHostMemo } from './vhost-memo.js';
import { routeConfigsOf, virtualHostResources } from './vhds.js';

const NS = ['a', 'b'];
const SERVICES = ['s0', 's1', 's2', 's3', 's4'];
const nsOfSvc = (i: number): string => NS[i % 2] ?? 'a';
const host = (i: number): string => `s${i}.${nsOfSvc(i)}.svc.cluster.local`;

function world(seed: number) {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const n = (k: number): number => Math.floor(r() * k);
  const obj = (kind: string, name: string, ns: string, spec: unknown): ConfigObject => ({
    apiVersion:
      kind === 'Sidecar' || kind === 'ServiceEntry' ? 'networking.istio.io/v1' : 'networking.istio.io/v1',
    kind,
    metadata: { name, namespace: ns },
    spec,
  });
  const service = (i: number): ConfigObject =>
    obj('ServiceEntry', `s${i}`, nsOfSvc(i), {
      hosts: [host(i)],
      addresses: r() < 0.8 ? [`10.96.0.${i + 1}`] : [],
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
      ports: [{ number: 80, name: 'http' }, ...(r() < 0.4 ? [{ number: 9080, name: 'http-alt' }] : [])],
      endpoints: Array.from({ length: 1 + n(3) }, (_, k) => ({
        address: `10.0.${k}.${i + 1 + n(2)}`,
        labels: { version: pick(['v1', 'v2']) },
        ...(r() < 0.5 ? { locality: pick(['r1/z1', 'r1/z2', 'r2/z1']) } : {}),
      })),
      ...(r() < 0.2 ? { exportTo: ['.'] } : {}),
      ...(r() < 0.6 ? { workloadSelector: { labels: { app: `w${i}` } } } : {}),
    });
  const workloadEntry = (): ConfigObject => {
    const i = n(SERVICES.length);
    return obj('WorkloadEntry', `we-${i}-${n(3)}`, nsOfSvc(i), {
      address: `10.1.${n(4)}.${n(250)}`,
      labels: { app: `w${i}`, version: pick(['v1', 'v2']) },
      ...(r() < 0.5 ? { locality: pick(['r1/z1', 'r2/z1']) } : {}),
    });
  };
  const destination = () => ({
    host: r() < 0.5 ? `s${n(SERVICES.length)}.${pick(NS)}.svc.cluster.local` : `s${n(SERVICES.length)}`,
    ...(r() < 0.4 ? { subset: pick(['v1', 'v2']) } : {}),
    ...(r() < 0.2 ? { port: { number: pick([80, 9080]) } } : {}),
  });
  const httpRoute = (delegate: boolean) => ({
    ...(r() < 0.5
      ? {
          match: [
            {
              uri: { prefix: pick(['/', '/api', '/api/v1']) },
              ...(r() < 0.4 ? { sourceLabels: { app: pick(['x', 'y', 'z']) } } : {}),
              ...(r() < 0.2 ? { sourceNamespace: pick(NS) } : {}),
              ...(r() < 0.2 ? { port: pick([80, 9080]) } : {}),
            },
          ],
        }
      : {}),
    ...(delegate && r() < 0.4
      ? { delegate: { name: `child-${n(2)}`, namespace: pick(NS) } }
      : {
          route:
            r() < 0.5
              ? [{ destination: destination() }]
              : [
                  { destination: destination(), weight: 30 + n(40) },
                  { destination: destination(), weight: 30 },
                ],
          ...(r() < 0.2 ? { mirror: destination() } : {}),
          ...(r() < 0.3 ? { timeout: `${1 + n(5)}s` } : {}),
        }),
  });
  const virtualService = (i: number): ConfigObject =>
    obj('VirtualService', `vs-${i}`, nsOfSvc(i), {
      hosts: [r() < 0.7 ? `s${i}` : host(i)],
      http: Array.from({ length: 1 + n(3) }, () => httpRoute(true)),
      ...(r() < 0.2 ? { exportTo: [pick(['.', '*'])] } : {}),
    });
  const child = (k: number, ns: string): ConfigObject =>
    obj('VirtualService', `child-${k}`, ns, {
      http: Array.from({ length: 1 + n(2) }, () => httpRoute(false)),
    });
  const destinationRule = (i: number): ConfigObject =>
    obj('DestinationRule', `dr-${i}`, r() < 0.8 ? nsOfSvc(i) : pick(NS), {
      host: host(i),
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
      trafficPolicy:
        r() < 0.6
          ? { loadBalancer: { consistentHash: { httpHeaderName: pick(['x-user', 'x-session']) } } }
          : r() < 0.5
            ? { loadBalancer: { simple: 'ROUND_ROBIN' } }
            : {
                loadBalancer: {
                  simple: 'ROUND_ROBIN',
                  localityLbSetting:
                    r() < 0.5
                      ? { enabled: true }
                      : { enabled: true, failoverPriority: ['topology.kubernetes.io/region'] },
                },
                outlierDetection: { consecutive5xxErrors: 3, interval: '10s' },
              },
      ...(r() < 0.3 ? { workloadSelector: { matchLabels: { app: pick(['x', 'y']) } } } : {}),
    });
  const sidecar = (ns: string): ConfigObject =>
    obj('Sidecar', 'default', ns, { egress: [{ hosts: r() < 0.5 ? ['./*'] : ['*/*'] }] });

  /** Objects by key; an edit replaces one with a new object, adds or deletes one. */
  const objects = new Map<string, ConfigObject>();
  const put = (o: ConfigObject): void => {
    objects.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
  };
  SERVICES.forEach((_, i) => put(service(i)));
  for (let i = 0; i < SERVICES.length; i++) if (r() < 0.7) put(virtualService(i));
  const edit = (): void => {
    const k = r();
    if (k < 0.1) put(service(n(SERVICES.length)));
    else if (k < 0.25) put(workloadEntry());
    else if (k < 0.45) put(virtualService(n(SERVICES.length)));
    else if (k < 0.6) put(child(n(2), pick(NS)));
    else if (k < 0.75) put(destinationRule(n(SERVICES.length)));
    else if (k < 0.8) put(sidecar(pick(NS)));
    else {
      const keys = [...objects.keys()].filter((x) => !x.startsWith('ServiceEntry/') || r() < 0.3);
      const victim = pick(keys);
      if (victim) objects.delete(victim);
    }
  };
  return { objects: () => [...objects.values()], edit };
}

const clusters = [...SERVICES.keys()].flatMap((i) =>
  [80, 9080].flatMap((port) => ['', 'v1', 'v2'].map((sub) => `outbound|${port}|${sub}|${host(i)}`)),
);
clusters.push('outbound|80||nowhere.a.svc.cluster.local');

const proxies = [
  proxy({
    ip: '10.0.1.1',
    pod: 'p1',
    namespace: 'a',
    labels: { app: 'x', version: 'v1' },
    locality: { region: 'r1', zone: 'z1' },
  }),
  proxy({ ip: '10.0.1.2', pod: 'p2', namespace: 'a', labels: { app: 'y' } }),
  proxy({ ip: '10.0.1.3', pod: 'p3', namespace: 'b', labels: { app: 'x' }, locality: { region: 'r2' } }),
  proxy({ ip: '10.0.1.4', pod: 'p4', namespace: 'b', labels: { app: 'z', version: 'v2' } }),
];

describe('incremental virtual hosts', () => {
  it('give the same route configurations as recomputation over random edit sequences', () => {
    let hits = 0;
    let misses = 0;
    let keptKinds = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const w = world(seed);
      const memo = new VirtualHostMemo();
      const endpoints = new EndpointsMemo();
      let previous: Snapshot | undefined;
      for (let step = 0; step < 20; step++) {
        // Incremental: built from the previous snapshot (unchanged kinds and services kept).
        const snap = buildSnapshot(
          { version: `${seed}.${step}`, mesh: DEFAULT_MESH_CONFIG, objects: w.objects() },
          previous,
        );
        for (const [k, list] of snap.byKind) if (previous?.byKind.get(k) === list) keptKinds++;
        previous = snap;
        // From scratch: copies of the objects (no identity shared with earlier snapshots, so no
        // cache keyed by object identity, in translation or in the model, can answer).
        const fresh = buildSnapshot({
          version: `${seed}.${step}`,
          mesh: DEFAULT_MESH_CONFIG,
          objects: structuredClone(w.objects()),
        });
        // The incremental snapshot holds what a fresh one does, in the same order.
        const order = (x: Snapshot) =>
          [...x.byKind].map(([k, l]) => [k, l.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)]);
        expect(order(snap)).toEqual(order(fresh));
        expect(snap.services).toEqual(fresh.services);
        memo.rotate();
        endpoints.rotate();
        for (const p of proxies) {
          const incremental = translateContext(snap, p, undefined, { virtualHosts: memo, endpoints });
          const scratch = translateContext(fresh, p);
          const got = sidecarRouteConfigs(incremental);
          expect(got, `seed ${seed} step ${step} proxy ${p.podName}`).toEqual(sidecarRouteConfigs(scratch));
          // VHDS resources built from memoized virtual hosts are the same too.
          expect(virtualHostResources(routeConfigsOf(incremental), ['80', '9080'])).toEqual(
            virtualHostResources(sidecarRouteConfigs(scratch), ['80', '9080']),
          );
          // One whole configuration (patched from the previous snapshot's list when it can be).
          for (const one of ['80', '9080'])
            expect(virtualHostResources(routeConfigsOf(incremental), [one])).toEqual(
              virtualHostResources(sidecarRouteConfigs(scratch), [one, one]),
            );
          // Load assignments of every cluster, subsets included, and of an unknown one: one by one
          // and as a class's subscription (patched from the previous snapshot's list).
          expect(clusters.map((c) => endpointsFor(incremental, c))).toEqual(
            clusters.map((c) => endpointsFor(scratch, c)),
          );
          expect(loadAssignments(incremental, clusters)).toEqual(loadAssignments(scratch, clusters));
        }
        w.edit();
      }
      hits += memo.hits + endpoints.hits;
      misses += memo.misses + endpoints.misses;
    }
    // The memo was exercised both ways: reused across snapshots and recomputed after edits.
    expect(hits).toBeGreaterThan(1000);
    // and the snapshot kept unchanged kinds from the previous one.
    expect(keptKinds).toBeGreaterThan(100);
    expect(misses).toBeGreaterThan(100);
  }, 120_000);

  it('regenerates only the virtual hosts of the edited VirtualService, once', () => {
    const svc = (i: number): ConfigObject => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: `s${i}`, namespace: 'a' },
      spec: {
        hosts: [`s${i}.a.svc.cluster.local`],
        resolution: 'STATIC',
        ports: [{ number: 80, name: 'http' }],
      },
    });
    const vs = (i: number, weight: number): ConfigObject => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: `vs-${i}`, namespace: 'a' },
      spec: {
        hosts: [`s${i}`],
        http: [
          {
            route: [
              { destination: { host: `s${i}` }, weight },
              { destination: { host: `s${(i + 1) % 3}` }, weight: 100 - weight },
            ],
          },
        ],
      },
    });
    const base = [svc(0), svc(1), svc(2), vs(1, 50), vs(2, 50)];
    const memo = new VirtualHostMemo();
    const vhostsOf = (version: string, objects: ConfigObject[]) => {
      memo.rotate();
      const snap = buildSnapshot({ version, mesh: DEFAULT_MESH_CONFIG, objects });
      // Two proxies of one view: the second one reuses every virtual host of the first.
      const [a, b] = [proxies[0], proxies[1]].map((p) =>
        sidecarRouteConfigs(
          translateContext(snap, p ?? proxy({ ip: '10.0.9.9' }), undefined, {
            virtualHosts: memo,
            endpoints: new EndpointsMemo(),
          }),
        ).flatMap((rc) => rc.virtualHosts ?? []),
      );
      expect(b).toEqual(a);
      return a ?? [];
    };
    const before = vhostsOf('1', [...base, vs(0, 100)]);
    const misses = memo.misses;
    const after = vhostsOf('2', [...base, vs(0, 90)]);
    expect(memo.misses - misses).toBe(1); // s0's virtual host, once for both proxies
    const changed = after.filter((vh) => !before.includes(vh));
    expect(changed.map((vh) => vh.name)).toEqual(['s0.a.svc.cluster.local:80']);
  });
});

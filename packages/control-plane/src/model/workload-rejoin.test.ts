import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/support/seeded-random.js';
import type { ConfigObject } from './istio-types.js';
import { DEFAULT_MESH_CONFIG } from './mesh-config.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';

const obj = (kind: string, name: string, namespace: string, spec: object): ConfigObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind,
  metadata: { name, namespace },
  spec,
});

const NS = ['a', 'b'];

describe('services after WorkloadEntry-only changes', () => {
  it('equal a full join over random add / edit / delete sequences, unaffected services kept', () => {
    let keptServices = 0;
    let rejoins = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const r = seededRandom(seed);
      const n = (k: number): number => Math.floor(r() * k);
      const objects = new Map<string, ConfigObject>();
      const put = (o: ConfigObject): void =>
        void objects.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
      // 12 ServiceEntries over two namespaces; some select by app label, one by nothing, two
      // share a hostname (conflict order), one has two hosts.
      for (let i = 0; i < 12; i++) {
        const ns = NS[i % 2] ?? 'a';
        put(
          obj('ServiceEntry', `se-${i}`, ns, {
            hosts: i === 5 ? [`s${i}.example.com`, `alt${i}.example.com`] : [`s${i % 10}.example.com`],
            resolution: 'STATIC',
            ports: [{ number: 80, name: 'http' }],
            ...(i % 4 === 3 ? {} : { workloadSelector: { labels: { app: `w${i % 6}` } } }),
          }),
        );
      }
      const we = (): ConfigObject =>
        obj('WorkloadEntry', `we-${n(20)}`, NS[n(2)] ?? 'a', {
          address: `10.0.${n(4)}.${n(250)}`,
          labels: { app: `w${n(7)}`, ...(r() < 0.5 ? { version: 'v2' } : {}) },
        });
      for (let i = 0; i < 15; i++) put(we());
      let previous: Snapshot | undefined;
      for (let step = 0; step < 30; step++) {
        const snap = buildSnapshot(
          { version: `${seed}.${step}`, mesh: DEFAULT_MESH_CONFIG, objects: [...objects.values()] },
          previous,
        );
        const fresh = buildSnapshot({
          version: `${seed}.${step}`,
          mesh: DEFAULT_MESH_CONFIG,
          objects: structuredClone([...objects.values()]),
        });
        expect(snap.services, `seed ${seed} step ${step}`).toEqual(fresh.services);
        expect([...snap.servicesByHost].sort()).toEqual([...fresh.servicesByHost].sort());
        for (const [host, list] of snap.servicesByHost)
          for (const s of list) expect(snap.services.includes(s), host).toBe(true);
        if (
          previous &&
          previous.services !== snap.services &&
          previous.workloadEntries !== snap.workloadEntries
        ) {
          rejoins++;
          keptServices += snap.services.filter((s) => previous?.services.includes(s)).length;
        }
        previous = snap;
        // One WorkloadEntry change per step: added, replaced by an edited one, or deleted.
        const k = r();
        const wes = [...objects.keys()].filter((x) => x.startsWith('WorkloadEntry/'));
        if (k < 0.6 || wes.length === 0) put(we());
        else objects.delete(wes[n(wes.length)] ?? '');
      }
    }
    expect(rejoins).toBeGreaterThan(50);
    // Most services are the previous objects (only the selecting ServiceEntries were joined again).
    expect(keptServices).toBeGreaterThan(rejoins * 6);
  });
});

import { describe, expect, it } from 'vitest';
import type { ConfigObject } from './istio-types.js';
import { DEFAULT_MESH_CONFIG } from './mesh-config.js';
import { SnapshotAhead } from './snapshot-ahead.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';

const vs = (name: string, host: string): ConfigObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: 'default' },
    spec: { hosts: [host], http: [{ route: [{ destination: { host } }] }] },
  }) as unknown as ConfigObject;

describe('SnapshotAhead', () => {
  const objects = [vs('a', 'a'), vs('b', 'b')];
  const from = buildSnapshot({ version: '1.0', mesh: DEFAULT_MESH_CONFIG, objects });
  const next = [objects[0] as ConfigObject, vs('b', 'c')];
  const build = (list: readonly ConfigObject[]): Snapshot =>
    buildSnapshot({ version: '2.0', mesh: DEFAULT_MESH_CONFIG, objects: list }, from);

  it('hands out the snapshot built for exactly these objects, version and predecessor, once', () => {
    const ahead = new SnapshotAhead();
    ahead.prepare('2.0', from, next, build);
    const taken = ahead.take('2.0', from, [...next]);
    expect(taken).toBeDefined();
    expect(taken?.version).toBe('2.0');
    // The same snapshot a build at that moment gives.
    expect(JSON.stringify(taken?.virtualServices)).toBe(JSON.stringify(build(next).virtualServices));
    expect(ahead.take('2.0', from, next)).toBeUndefined();
  });

  it('discards it when anything differs', () => {
    const ahead = new SnapshotAhead();
    const other = buildSnapshot({ version: '1.1', mesh: DEFAULT_MESH_CONFIG, objects });
    const cases: [string, Snapshot, readonly ConfigObject[]][] = [
      ['3.0', from, next], // another change came first
      ['2.0', other, next], // the snapshot it replaces is not the one it was built on
      ['2.0', from, [objects[0] as ConfigObject, vs('b', 'c')]], // equal content, other objects (re-read)
      ['2.0', from, next.slice(0, 1)],
      ['2.0', from, [...next].reverse()],
    ];
    for (const [version, base, list] of cases) {
      ahead.prepare('2.0', from, next, build);
      expect(ahead.take(version, base, list)).toBeUndefined();
    }
  });
});

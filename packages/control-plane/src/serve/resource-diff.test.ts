import { describe, expect, it } from 'vitest';
import type { EncodedResource } from './resource-encoder.js';
import { diffByName } from './resource-diff.js';

const r = (name: string, version: string): EncodedResource =>
  ({ name, version, any: { typeUrl: '', value: new Uint8Array() } }) as unknown as EncodedResource;
const names = (l: readonly EncodedResource[]): string[] => l.map((x) => `${x.name}@${x.version}`);

/** The reference: maps of names to versions. */
function byMaps(prev: readonly EncodedResource[], next: readonly EncodedResource[]) {
  const before = new Map(prev.map((x) => [x.name, x.version]));
  const after = new Set(next.map((x) => x.name));
  return {
    changed: names(next.filter((x) => before.get(x.name) !== x.version)),
    removed: prev.filter((x) => !after.has(x.name)).map((x) => x.name),
  };
}

describe('diffByName', () => {
  it('finds added, changed and removed resources of sorted lists', () => {
    const prev = [r('a', '1'), r('b', '1'), r('d', '1'), r('e', '1')];
    const next = [r('a', '1'), r('b', '2'), r('c', '1'), r('e', '1'), r('f', '1')];
    const d = diffByName(prev, next);
    expect(names(d.changed)).toEqual(['b@2', 'c@1', 'f@1']);
    expect(d.removed).toEqual(['d']);
  });

  it('handles empty lists on either side', () => {
    expect(names(diffByName([], [r('a', '1')]).changed)).toEqual(['a@1']);
    expect(diffByName([r('a', '1')], []).removed).toEqual(['a']);
    expect(diffByName([], [])).toEqual({ changed: [], removed: [] });
  });

  it('agrees with a map-based diff on random lists, sorted or not', () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let round = 0; round < 300; round++) {
      const list = (): EncodedResource[] => {
        const out = new Map<string, EncodedResource>();
        for (let k = rand(12); k > 0; k--) {
          const n = `n${rand(15)}`;
          out.set(n, r(n, String(rand(3))));
        }
        const l = [...out.values()].sort((x, y) => (x.name < y.name ? -1 : 1));
        if (round % 3 === 0) l.reverse(); // unsorted: the map fallback
        if (round % 7 === 0 && l.length > 0) l.push(l[0] as EncodedResource); // a repeated name
        return l;
      };
      const prev = list();
      const next = list();
      const d = diffByName(prev, next);
      expect({ changed: names(d.changed), removed: d.removed }).toEqual(byMaps(prev, next));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { seededUint32 } from '../../test/support/seeded-random.js';
import type { ConfigObject } from '../model/istio-types.js';
import { configKey } from './config-store.js';
import { mergeObjects, PublishedObjects } from './published-objects.js';

const obj = (name: string, ns: string, v: number): ConfigObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: { hosts: [name], v },
  }) as unknown as ConfigObject;

describe('PublishedObjects', () => {
  it('merges changed files key by key into exactly what a full merge gives', () => {
    const next = seededUint32(3);
    const rand = (n: number): number => next() % n;
    const name = (p: string): string => p;
    const files = new Map<string, ConfigObject[]>();
    const objectsOf = (p: string): readonly ConfigObject[] => files.get(p) ?? [];
    const published = new PublishedObjects(name);
    // The store's view of this source: key → object, as the updates leave it.
    const store = new Map<string, ConfigObject>();
    const full = (): void => {
      const { objects } = published.all([...files.keys()].sort(), objectsOf);
      store.clear();
      for (const o of objects) store.set(configKey(o), o);
    };
    const randomFile = (): ConfigObject[] =>
      Array.from({ length: rand(4) }, () => obj(`o${rand(12)}`, `ns${rand(2)}`, rand(3)));
    for (let i = 0; i < 6; i++) files.set(`f${i}.yaml`, randomFile());
    full();
    let duplicates = mergeObjects([...files.keys()].sort(), objectsOf, name).duplicates;
    let incremental = 0;
    for (let step = 0; step < 600; step++) {
      const changed = new Map<string, readonly ConfigObject[]>();
      for (let e = 1 + rand(3); e > 0; e--) {
        const path = `f${rand(9)}.yaml`;
        if (!changed.has(path)) changed.set(path, files.get(path) ?? []);
        const kind = rand(5);
        if (kind === 0)
          files.delete(path); // deleted (or renamed away)
        else if (kind === 1) {
          // an object of another file copied in: a duplicate across files
          const other = files.get(`f${rand(9)}.yaml`)?.[0];
          files.set(path, [...(files.get(path) ?? []), ...(other ? [other] : [])]);
        } else if (kind === 2)
          files.set(path, [...(files.get(path) ?? []), ...(files.get(path) ?? [])].slice(0, 5)); // within a file
        else files.set(path, randomFile()); // rewritten (multi-document)
      }
      const update = step % 97 === 0 ? undefined : published.update(changed, objectsOf);
      if (update) {
        incremental++;
        for (const k of update.removed) store.delete(k);
        for (const o of update.upserts) store.set(configKey(o), o);
        if (update.duplicates) duplicates = update.duplicates;
      } else {
        full();
        duplicates = mergeObjects([...files.keys()].sort(), objectsOf, name).duplicates;
      }
      const expected = mergeObjects([...files.keys()].sort(), objectsOf, name);
      const want = new Map(expected.objects.map((o) => [configKey(o), o]));
      expect([...store.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, o] of want) expect(store.get(k)).toBe(o); // the very object, not an equal one
      expect(duplicates).toEqual(expected.duplicates);
    }
    expect(incremental).toBeGreaterThan(500);
  });

  it('asks for a full merge before it has one, and when many keys changed', () => {
    const files = new Map([['a.yaml', Array.from({ length: 300 }, (_, i) => obj(`o${i}`, 'ns', 0))]]);
    const published = new PublishedObjects((p) => p);
    const objectsOf = (p: string): readonly ConfigObject[] => files.get(p) ?? [];
    expect(published.update(new Map([['a.yaml', []]]), objectsOf)).toBeUndefined();
    published.all(['a.yaml'], objectsOf);
    expect(published.update(new Map([['a.yaml', []]]), objectsOf)).toBeUndefined();
    expect(published.update(new Map([['b.yaml', []]]), objectsOf)).toEqual({
      upserts: [],
      removed: [],
      duplicates: undefined,
    });
  });
});

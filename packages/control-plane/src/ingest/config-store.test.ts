import { describe, expect, it } from 'vitest';
import type { ConfigObject } from '../model/istio-types.js';
import { ConfigStore, configKey, type ConfigChange } from './config-store.js';

const obj = (name: string, weight: number, ns = 'default'): ConfigObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: { hosts: [name], http: [{ route: [{ destination: { host: name }, weight }] }] },
  }) as unknown as ConfigObject;

function recording(store: ConfigStore): ConfigChange[] {
  const out: ConfigChange[] = [];
  store.onChange((c) => out.push(c));
  return out;
}

describe('ConfigStore', () => {
  it('reports exactly the changed keys, with the objects before, and lists by key', () => {
    const store = new ConfigStore();
    const changes = recording(store);
    store.replace('dir', [obj('b', 1), obj('a', 1)]);
    expect(changes.at(-1)?.changed).toEqual(['VirtualService/default/a', 'VirtualService/default/b']);
    const a1 = store.get('VirtualService/default/a');
    store.replace('dir', [obj('a', 2), obj('b', 1), obj('c', 1)], 123);
    const c = changes.at(-1);
    expect(c?.changed).toEqual(['VirtualService/default/a', 'VirtualService/default/c']);
    expect(c?.before.get('VirtualService/default/a')).toBe(a1);
    expect(c?.observedAt).toBe(123);
    expect(store.list().map(configKey)).toEqual([
      'VirtualService/default/a',
      'VirtualService/default/b',
      'VirtualService/default/c',
    ]);
    store.replace('dir', [obj('c', 1)]);
    expect(changes.at(-1)?.changed).toEqual(['VirtualService/default/a', 'VirtualService/default/b']);
    expect(store.list().map(configKey)).toEqual(['VirtualService/default/c']);
  });

  it('takes an equal object in place of the old one without a change', () => {
    const store = new ConfigStore();
    const changes = recording(store);
    store.replace('dir', [obj('a', 1)]);
    store.list();
    const again = obj('a', 1);
    store.replace('dir', [again]);
    expect(changes).toHaveLength(1);
    expect(store.version).toBe(1);
    expect(store.list()[0]).toBe(again);
  });

  it('lets the first registered source win a conflict, and the other show when it leaves', () => {
    const store = new ConfigStore();
    store.addSource('kube');
    store.addSource('dir');
    const changes = recording(store);
    store.replace('dir', [obj('a', 1)]);
    store.replace('kube', [obj('a', 2)]);
    expect(store.list()[0]).toEqual(obj('a', 2));
    store.replace('dir', [obj('a', 3)]);
    expect(changes).toHaveLength(2); // the losing source's edit changes nothing
    store.remove('kube', 'VirtualService/default/a');
    expect(store.list()[0]).toEqual(obj('a', 3));
    store.upsert('kube', obj('b', 1));
    expect(store.list().map(configKey)).toEqual(['VirtualService/default/a', 'VirtualService/default/b']);
  });

  it('keeps the sorted list equal to a fresh sort through random edits', () => {
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const store = new ConfigStore();
    store.addSource('a');
    store.addSource('b');
    // What each source holds (by name), and what the store was given per source (by key).
    const held: Record<string, Map<string, ConfigObject>> = { a: new Map(), b: new Map() };
    const given: Record<string, Map<string, ConfigObject>> = { a: new Map(), b: new Map() };
    for (let step = 0; step < 400; step++) {
      const src = rand(2) === 0 ? 'a' : 'b';
      const m = held[src] as Map<string, ConfigObject>;
      const burst = step % 50 === 0 ? 100 : 1 + rand(3);
      for (let i = 0; i < burst; i++) {
        const name = `o${rand(120)}`;
        if (rand(4) === 0) m.delete(name);
        else m.set(name, obj(name, rand(3), `ns${rand(3)}`));
      }
      const o = [...m.values()][0];
      if (rand(5) === 0 && o) {
        store.upsert(src, o);
        given[src]?.set(configKey(o), o);
      } else {
        store.replace(src, [...m.values()]);
        given[src] = new Map([...m.values()].map((x) => [configKey(x), x]));
      }
      // Reference: the merged view recomputed from scratch (the first source wins).
      const expected = new Map<string, ConfigObject>();
      for (const s of ['a', 'b'])
        for (const [k, x] of given[s] as Map<string, ConfigObject>) if (!expected.has(k)) expected.set(k, x);
      const keys = [...expected.keys()].sort();
      // What a replace would give, told beforehand without changing anything.
      if (step % 7 === 0) {
        const other = src === 'a' ? 'b' : 'a';
        const next = [...(held[other] as Map<string, ConfigObject>).values()].slice(0, 20 + rand(80));
        const before = store.list();
        const version = store.version;
        const previewed = store.preview(other, next);
        expect(store.list()).toEqual(before);
        expect(store.version).toBe(version);
        const probe = new ConfigStore();
        probe.addSource('a');
        probe.addSource('b');
        for (const x of ['a', 'b']) probe.replace(x, [...(given[x] as Map<string, ConfigObject>).values()]);
        const was = probe.list();
        probe.replace(other, next);
        const after = probe.list();
        if (previewed === undefined)
          expect(after.every((o, i) => o === was[i]) && after.length === was.length).toBe(true);
        else {
          expect(previewed.length).toBe(after.length);
          expect(previewed.every((o, i) => o === after[i])).toBe(true);
        }
      }
      expect(store.list().map(configKey)).toEqual(keys);
      expect(JSON.stringify(store.list())).toEqual(JSON.stringify(keys.map((k) => expected.get(k))));
    }
  });
});

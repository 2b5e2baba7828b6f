// The aggregated configuration: every valid mesh object from every source, keyed by
// kind/namespace/name, with change notification naming exactly what changed. Conflict rule: when
// two sources hold the same key, the source registered first wins.
import type { ConfigObject } from '../model/istio-types.js';

export type ConfigKey = string;

const keys = new WeakMap<ConfigObject, ConfigKey>();

/** `kind/namespace/name` (kept per object: a source hands the same objects in scan after scan). */
export function configKey(obj: ConfigObject): ConfigKey {
  let k = keys.get(obj);
  if (k === undefined)
    keys.set(obj, (k = `${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`));
  return k;
}

export interface ConfigChange {
  /** Keys added, modified or removed. */
  readonly changed: readonly ConfigKey[];
  /** The objects before the change, for keys that existed (to scope pushes by old hosts too). */
  readonly before: ReadonlyMap<ConfigKey, ConfigObject>;
  /** When the source observed the change (epoch ms: the file or informer event), when it knows. */
  readonly observedAt?: number | undefined;
}

export type ConfigListener = (change: ConfigChange) => void;

export class ConfigStore {
  private readonly sources: { id: string; objects: Map<ConfigKey, ConfigObject> }[] = [];
  private readonly merged = new Map<ConfigKey, ConfigObject>();
  /** `merged` sorted by key, patched key by key as objects change (rebuilt when many did). */
  private sorted: { keys: ConfigKey[]; objects: ConfigObject[] } | undefined;
  private readonly listeners = new Set<ConfigListener>();
  private generation = 0;

  /** Registers a source; earlier sources win conflicts. */
  addSource(id: string): void {
    if (!this.sources.some((s) => s.id === id)) this.sources.push({ id, objects: new Map() });
  }

  /**
   * Replaces everything a source holds; notifies listeners when the merged view changed.
   * `observedAt`: when the source saw the event that led here (the debounce counts from it).
   */
  replace(sourceId: string, objects: Iterable<ConfigObject>, observedAt?: number): void {
    this.addSource(sourceId);
    const source = this.sources.find((s) => s.id === sourceId);
    if (!source) return;
    const old = source.objects;
    source.objects = new Map();
    for (const o of objects) {
      const k = configKey(o);
      if (!source.objects.has(k)) source.objects.set(k, o);
    }
    // Only keys this source held or holds can have changed in the merged view.
    this.recompute(observedAt, [old.keys(), source.objects.keys()]);
  }

  /**
   * What `list()` would return after `replace(sourceId, objects)`, changing nothing; undefined
   * when the merged view would not change (or the source is unknown).
   */
  preview(sourceId: string, objects: Iterable<ConfigObject>): ConfigObject[] | undefined {
    const index = this.sources.findIndex((s) => s.id === sourceId);
    if (index < 0) return undefined;
    const mine = new Map<ConfigKey, ConfigObject>();
    for (const o of objects) {
      const k = configKey(o);
      if (!mine.has(k)) mine.set(k, o);
    }
    const holds = (i: number, k: ConfigKey): ConfigObject | undefined =>
      i === index ? mine.get(k) : this.sources[i]?.objects.get(k);
    const winner = (k: ConfigKey): ConfigObject | undefined => {
      for (let i = 0; i < this.sources.length; i++) {
        const o = holds(i, k);
        if (o !== undefined) return o;
      }
      return undefined;
    };
    let differs = false;
    const next = new Map<ConfigKey, ConfigObject>();
    for (const k of [...this.merged.keys(), ...mine.keys()]) {
      if (next.has(k)) continue;
      const o = winner(k);
      if (o !== this.merged.get(k)) differs = true;
      if (o !== undefined) next.set(k, o);
    }
    if (!differs) return undefined;
    return [...next.keys()]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((k) => next.get(k) as ConfigObject);
  }

  /**
   * Adds or replaces some of a source's objects and removes some of its keys, keeping the rest;
   * notifies listeners as `replace` does.
   */
  apply(
    sourceId: string,
    upserts: readonly ConfigObject[],
    removed: readonly ConfigKey[],
    observedAt?: number,
  ): void {
    this.addSource(sourceId);
    const source = this.sources.find((s) => s.id === sourceId);
    if (!source) return;
    const keys: ConfigKey[] = [];
    for (const k of removed) {
      source.objects.delete(k);
      keys.push(k);
    }
    for (const o of upserts) {
      const k = configKey(o);
      source.objects.set(k, o);
      keys.push(k);
    }
    this.recompute(observedAt, [keys]);
  }

  /** Adds or replaces one object from a source. */
  upsert(sourceId: string, obj: ConfigObject): void {
    this.addSource(sourceId);
    const k = configKey(obj);
    this.sources.find((s) => s.id === sourceId)?.objects.set(k, obj);
    this.recompute(undefined, [[k]]);
  }

  /** Removes one object from a source. */
  remove(sourceId: string, key: ConfigKey): void {
    this.sources.find((s) => s.id === sourceId)?.objects.delete(key);
    this.recompute(undefined, [[key]]);
  }

  /** Every object, sorted by key (stable order for translation). A fresh array per call. */
  list(): ConfigObject[] {
    if (!this.sorted) {
      const keys = [...this.merged.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sorted = { keys, objects: keys.map((k) => this.merged.get(k) as ConfigObject) };
    }
    return this.sorted.objects.slice();
  }

  get(key: ConfigKey): ConfigObject | undefined {
    return this.merged.get(key);
  }

  /** Increases on every change of the merged view. */
  get version(): number {
    return this.generation;
  }

  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The object a key resolves to: the first source holding it. */
  private winner(key: ConfigKey): ConfigObject | undefined {
    for (const s of this.sources) {
      const o = s.objects.get(key);
      if (o !== undefined) return o;
    }
    return undefined;
  }

  /**
   * Brings the merged view up to date for `candidates` (the keys that may have changed) and tells
   * the listeners which changed. An object replaced by an equal one (same JSON) takes its place
   * without counting as a change.
   */
  private recompute(observedAt: number | undefined, candidates: Iterable<ConfigKey>[]): void {
    const changed: ConfigKey[] = [];
    const before = new Map<ConfigKey, ConfigObject>();
    const touched: ConfigKey[] = [];
    for (const list of candidates)
      for (const k of list) {
        const o = this.winner(k);
        const prev = this.merged.get(k);
        if (o === prev) continue; // unchanged, or a key seen twice
        touched.push(k);
        if (o === undefined) {
          this.merged.delete(k);
          changed.push(k);
          if (prev) before.set(k, prev);
          continue;
        }
        this.merged.set(k, o);
        if (prev === undefined || JSON.stringify(prev) !== JSON.stringify(o)) {
          changed.push(k);
          if (prev) before.set(k, prev);
        }
      }
    this.patchSorted(touched);
    if (changed.length === 0) return;
    this.generation++;
    for (const l of this.listeners) l({ changed: changed.sort(), before, observedAt });
  }

  /** Patches the sorted list for `touched` keys (binary search), or drops it when many changed. */
  private patchSorted(touched: readonly ConfigKey[]): void {
    const sorted = this.sorted;
    if (!sorted || touched.length === 0) return;
    if (touched.length > 64) {
      this.sorted = undefined;
      return;
    }
    for (const k of touched) {
      const { keys, objects } = sorted;
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((keys[mid] as ConfigKey) < k) lo = mid + 1;
        else hi = mid;
      }
      const o = this.merged.get(k);
      const present = keys[lo] === k;
      if (o === undefined) {
        if (present) {
          keys.splice(lo, 1);
          objects.splice(lo, 1);
        }
      } else if (present) objects[lo] = o;
      else {
        keys.splice(lo, 0, k);
        objects.splice(lo, 0, o);
      }
    }
  }
}

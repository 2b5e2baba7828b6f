// The aggregated configuration: every valid mesh object from every source, keyed by
// kind/namespace/name, with change notification naming exactly what changed. Conflict rule: when
// two sources hold the same key, the source registered first wins.
import type { ConfigObject } from '../model/istio-types.js';

export type ConfigKey = string;

export function configKey(obj: ConfigObject): ConfigKey {
  return `${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
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
  private merged = new Map<ConfigKey, ConfigObject>();
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
    source.objects = new Map();
    for (const o of objects) if (!source.objects.has(configKey(o))) source.objects.set(configKey(o), o);
    this.recompute(observedAt);
  }

  /** Adds or replaces one object from a source. */
  upsert(sourceId: string, obj: ConfigObject): void {
    this.addSource(sourceId);
    this.sources.find((s) => s.id === sourceId)?.objects.set(configKey(obj), obj);
    this.recompute();
  }

  /** Removes one object from a source. */
  remove(sourceId: string, key: ConfigKey): void {
    this.sources.find((s) => s.id === sourceId)?.objects.delete(key);
    this.recompute();
  }

  /** Every object, sorted by key (stable order for translation). */
  list(): ConfigObject[] {
    return [...this.merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
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

  private recompute(observedAt?: number): void {
    const next = new Map<ConfigKey, ConfigObject>();
    for (const s of this.sources) for (const [k, o] of s.objects) if (!next.has(k)) next.set(k, o);
    const changed: ConfigKey[] = [];
    const before = new Map<ConfigKey, ConfigObject>();
    for (const [k, o] of next) {
      const prev = this.merged.get(k);
      if (prev === undefined || (prev !== o && JSON.stringify(prev) !== JSON.stringify(o))) {
        changed.push(k);
        if (prev) before.set(k, prev);
      }
    }
    for (const [k, o] of this.merged)
      if (!next.has(k)) {
        changed.push(k);
        before.set(k, o);
      }
    this.merged = next;
    if (changed.length === 0) return;
    this.generation++;
    for (const l of this.listeners) l({ changed: changed.sort(), before, observedAt });
  }
}

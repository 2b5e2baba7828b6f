// What the directory source hands the store: every file's objects merged in path order — a key
// held by an earlier file (or earlier in the same file) wins, the others are reported duplicates —
// kept with an index of the files holding each key, so that a change to a few files is merged
// key by key and handed to the store as those keys' objects alone, not as all of them.
import type { ConfigObject } from '../model/istio-types.js';
import { configKey, type ConfigKey } from './config-store.js';
import type { Problem } from './validation.js';

/** Past this many keys in the changed files (before and after), merging everything is cheaper. */
const MAX_CHANGED_KEYS = 256;

interface Duplicate {
  readonly path: string;
  /** The object's place in its file. */
  readonly at: number;
  readonly problem: Problem;
}

type ObjectsOf = (path: string) => readonly ConfigObject[];

/**
 * Every file's objects in path order, a key held by an earlier file (or object) winning; `name`
 * says how a path is shown in a duplicate's reason.
 */
export function mergeObjects(
  paths: readonly string[],
  objectsOf: ObjectsOf,
  name: (path: string) => string,
): { objects: ConfigObject[]; duplicates: Problem[] } {
  const objects: ConfigObject[] = [];
  const owner = new Map<string, string>();
  const duplicates: Problem[] = [];
  for (const path of paths)
    for (const o of objectsOf(path)) {
      const k = configKey(o);
      const first = owner.get(k);
      if (first !== undefined) duplicates.push(duplicate(o, first, path, name));
      else {
        owner.set(k, path);
        objects.push(o);
      }
    }
  return { objects, duplicates };
}

function duplicate(o: ConfigObject, first: string, path: string, name: (path: string) => string): Problem {
  return {
    object: `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`,
    path: 'metadata.name',
    reason: `duplicate: already defined in ${name(first)}; ignored in ${name(path)}`,
    severity: 'error',
  };
}

const byPlace = (a: Duplicate, b: Duplicate): number =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : a.at - b.at;

export class PublishedObjects {
  /** Key → the files holding it. */
  private readonly holders = new Map<ConfigKey, Set<string>>();
  /** Key → the object handed to the store. */
  private readonly winners = new Map<ConfigKey, ConfigObject>();
  /** Key → its duplicates (only keys that have some). */
  private readonly duplicates = new Map<ConfigKey, Duplicate[]>();
  private indexed = false;

  constructor(private readonly name: (path: string) => string) {}

  /** Everything, merged from scratch; the index is rebuilt. */
  all(paths: readonly string[], objectsOf: ObjectsOf): { objects: ConfigObject[]; duplicates: Problem[] } {
    this.holders.clear();
    this.winners.clear();
    this.duplicates.clear();
    const objects: ConfigObject[] = [];
    const owner = new Map<ConfigKey, string>();
    const list: Duplicate[] = [];
    for (const path of paths)
      objectsOf(path).forEach((o, at) => {
        const k = configKey(o);
        this.hold(k, path);
        const first = owner.get(k);
        if (first === undefined) {
          owner.set(k, path);
          this.winners.set(k, o);
          objects.push(o);
          return;
        }
        const d = { path, at, problem: duplicate(o, first, path, this.name) };
        list.push(d);
        const forKey = this.duplicates.get(k);
        if (forKey) forKey.push(d);
        else this.duplicates.set(k, [d]);
      });
    this.indexed = true;
    return { objects, duplicates: list.map((d) => d.problem) };
  }

  /**
   * Merges a change of some files (`changed`: path → its objects before the change; `objectsOf`
   * gives every file's objects now): the store's upserts and removed keys, and every duplicate
   * when those changed (else undefined). Undefined when the files changed too many keys or no
   * full merge came first: then take `all`.
   */
  update(
    changed: ReadonlyMap<string, readonly ConfigObject[]>,
    objectsOf: ObjectsOf,
  ): { upserts: ConfigObject[]; removed: ConfigKey[]; duplicates: Problem[] | undefined } | undefined {
    if (!this.indexed) return undefined;
    let count = 0;
    for (const [path, before] of changed) count += before.length + objectsOf(path).length;
    if (count > MAX_CHANGED_KEYS) return undefined;
    const keys = new Set<ConfigKey>();
    for (const [path, before] of changed) {
      for (const o of before) {
        const k = configKey(o);
        keys.add(k);
        this.holders.get(k)?.delete(path);
      }
      for (const o of objectsOf(path)) {
        const k = configKey(o);
        keys.add(k);
        this.hold(k, path);
      }
    }
    const upserts: ConfigObject[] = [];
    const removed: ConfigKey[] = [];
    let duplicatesChanged = false;
    for (const k of keys) {
      const holders = this.holders.get(k);
      if (holders?.size === 0) this.holders.delete(k);
      let winner: ConfigObject | undefined;
      let first = '';
      const found: Duplicate[] = [];
      for (const path of [...(holders ?? [])].sort())
        objectsOf(path).forEach((o, at) => {
          if (configKey(o) !== k) return;
          if (winner === undefined) {
            winner = o;
            first = path;
          } else found.push({ path, at, problem: duplicate(o, first, path, this.name) });
        });
      if (found.length > 0 || this.duplicates.has(k)) duplicatesChanged = true;
      if (found.length > 0) this.duplicates.set(k, found);
      else this.duplicates.delete(k);
      if (winner === this.winners.get(k)) continue;
      if (winner === undefined) {
        this.winners.delete(k);
        removed.push(k);
      } else {
        this.winners.set(k, winner);
        upserts.push(winner);
      }
    }
    const duplicates = duplicatesChanged
      ? [...this.duplicates.values()]
          .flat()
          .sort(byPlace)
          .map((d) => d.problem)
      : undefined;
    return { upserts, removed, duplicates };
  }

  private hold(k: ConfigKey, path: string): void {
    const h = this.holders.get(k);
    if (h) h.add(path);
    else this.holders.set(k, new Set([path]));
  }
}

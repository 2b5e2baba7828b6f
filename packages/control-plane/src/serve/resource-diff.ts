// The change between two resource lists a delta stream is sent: what is new or at another
// version, and what is gone.
import type { EncodedResource } from './resource-encoder.js';

/**
 * What changed from `prev` to `next`: the resources of `next` that `prev` lacks or holds at
 * another version (in `next`'s order), and the names of `prev` that `next` lacks (in `prev`'s
 * order). Lists sorted by name (as generated) are walked side by side without building a map of
 * a thousand names per class; any other list is diffed through maps.
 */
export function diffByName(
  prev: readonly EncodedResource[],
  next: readonly EncodedResource[],
): { changed: EncodedResource[]; removed: string[] } {
  const changed: EncodedResource[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < prev.length || j < next.length) {
    const a = prev[i];
    const b = next[j];
    if (
      (a !== undefined && i > 0 && (prev[i - 1] as EncodedResource).name >= a.name) ||
      (b !== undefined && j > 0 && (next[j - 1] as EncodedResource).name >= b.name)
    )
      return diffByMap(prev, next); // not strictly sorted
    if (b !== undefined && (a === undefined || b.name < a.name)) {
      changed.push(b);
      j++;
    } else if (a !== undefined && (b === undefined || a.name < b.name)) {
      removed.push(a.name);
      i++;
    } else if (a !== undefined && b !== undefined) {
      if (a.version !== b.version) changed.push(b);
      i++;
      j++;
    }
  }
  return { changed, removed };
}

/**
 * The same for `next` patched from `prev` at `places` (ascending) with the same name at every
 * place (see `ResourceEncoder.patchOf`): only those places are compared, nothing is removed.
 * Equals `diffByName(prev, next)` for lists of distinct names.
 */
export function diffByPlaces(
  prev: readonly EncodedResource[],
  next: readonly EncodedResource[],
  places: readonly number[],
): { changed: EncodedResource[]; removed: string[] } {
  const changed: EncodedResource[] = [];
  for (const i of places) {
    const b = next[i] as EncodedResource;
    if ((prev[i] as EncodedResource).version !== b.version) changed.push(b);
  }
  return { changed, removed: [] };
}

function diffByMap(
  prev: readonly EncodedResource[],
  next: readonly EncodedResource[],
): { changed: EncodedResource[]; removed: string[] } {
  const before = new Map(prev.map((r) => [r.name, r.version]));
  const names = new Set(next.map((r) => r.name));
  return {
    changed: next.filter((r) => before.get(r.name) !== r.version),
    removed: prev.filter((r) => !names.has(r.name)).map((r) => r.name),
  };
}

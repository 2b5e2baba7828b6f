// RFC 6902 JSON Patch from a pod and its injected version (what a mutating webhook returns): one
// `add` per changed field of metadata and spec (`add` replaces an existing member), `remove` for
// a dropped one. Coarse by design: the API server applies it to exactly the object it sent.
import { isRecord, type Json } from '../inject/pod-types.js';

export interface PatchOp {
  op: 'add' | 'remove';
  path: string;
  value?: unknown;
}

const escape = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function jsonPatch(before: Json, after: Json): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const section of ['metadata', 'spec']) {
    const a = before[section];
    const b = after[section];
    if (same(a, b)) continue;
    if (!isRecord(a) || !isRecord(b)) {
      ops.push({ op: 'add', path: `/${section}`, value: b });
      continue;
    }
    for (const k of Object.keys(a))
      if (!(k in b)) ops.push({ op: 'remove', path: `/${section}/${escape(k)}` });
    for (const [k, v] of Object.entries(b))
      if (!same(a[k], v)) ops.push({ op: 'add', path: `/${section}/${escape(k)}`, value: v });
  }
  return ops;
}

/** Applies a patch made by `jsonPatch` (for tests and for skeinctl's local checks). */
export function applyPatch(obj: Json, ops: readonly PatchOp[]): Json {
  const out = structuredClone(obj);
  for (const op of ops) {
    const keys = op.path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) throw new Error(`bad path ${op.path}`);
    let cur: Json = out;
    for (const k of keys) {
      if (!isRecord(cur[k])) throw new Error(`path ${op.path}: ${k} is not an object`);
      cur = cur[k];
    }
    if (op.op === 'add') cur[last] = structuredClone(op.value);
    else delete cur[last];
  }
  return out;
}

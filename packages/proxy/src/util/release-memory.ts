// Hands the memory that starting up used back to the OS, once the first configuration is in:
// - the protobuf descriptors built to decode the configuration (`releaseDescriptors`; rebuilt
//   on the next xDS update or config dump that needs them);
// - V8's heap: decoding the bootstrap and compiling listeners and clusters grows the young
//   generation to its maximum (64 MB on Node 24), which V8 shrinks only under memory pressure;
//   three "last resort" collections (compacting, young generation to its minimum) also age out
//   startup-only bytecode;
// - the C heap: glibc keeps what V8's compiler zones and parsers freed in its arenas;
//   `malloc_trim(0)` (native/malloc-trim.c) returns those pages, as Envoy's tcmalloc releases
//   free memory to the OS (about 4–5 MB here).
import v8 from 'node:v8';
import vm from 'node:vm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { releaseDescriptors } from '@skein/api-types';

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

const STARTUP_GCS = 3;

/** The malloc_trim addon, or undefined when it was not built on this machine (no gcc). */
function mallocTrim(): (() => boolean) | undefined {
  const require = createRequire(import.meta.url);
  // From dist/util/ the addon is ../native; from src/util/ (tests) it is ../../dist/native.
  for (const rel of ['../native/malloc-trim.node', '../../dist/native/malloc-trim.node']) {
    const p = new URL(rel, import.meta.url).pathname;
    if (existsSync(p)) return (require(p) as { trim: () => boolean }).trim;
  }
  return undefined;
}

/**
 * The `gc` function: the process's own with --expose-gc, else one from a fresh context made while
 * the flag is briefly on, so the process's global never gains a `gc`.
 */
function gcFunction(): GcFunction | undefined {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as GcFunction;
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as unknown;
  v8.setFlagsFromString('--no-expose-gc');
  return typeof gc === 'function' ? (gc as GcFunction) : undefined;
}

export interface Released {
  descriptors: number;
  gc: boolean;
  trimmed: boolean;
}

/** Releases what startup used; returns what it could do. */
export function releaseStartupMemory(): Released {
  return release(STARTUP_GCS);
}

/**
 * Releases what traffic grew, once the proxy has gone idle (idle-release.ts): one compacting
 * collection (young generation to its minimum) and the C heap trimmed, as at startup. This is what
 * V8's memory reducer would do after a few quiet seconds; skein-proxy runs without the reducer
 * (bin/.skein-exec) and does it itself only after a longer quiet period.
 */
export function releaseIdleMemory(): Released {
  return release(1);
}

function release(gcs: number): Released {
  const descriptors = releaseDescriptors();
  let gc = false;
  try {
    const collect = gcFunction();
    if (collect) {
      for (let i = 0; i < gcs; i++) collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      gc = true;
    }
  } catch {
    // This Node cannot: the heap stays as it is.
  }
  let trimmed = false;
  try {
    trimmed = mallocTrim()?.() ?? false;
  } catch {
    // No addon for this platform.
  }
  return { descriptors, gc, trimmed };
}

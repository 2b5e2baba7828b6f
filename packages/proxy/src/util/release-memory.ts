// Hands the memory that starting up used back to the OS: one memory-reducing full GC once the
// first configuration is in. Decoding the bootstrap and compiling listeners and clusters grows
// V8's young generation to its maximum (64 MB on Node 24); V8 shrinks it again only under memory
// pressure, so an idle sidecar would otherwise keep it for its whole life.
import v8 from 'node:v8';
import { releaseDescriptors } from '@skein/api-types';
import vm from 'node:vm';

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Runs V8's "last resort" collection (compacting, and shrinking the young generation to its
 * minimum). Without `--expose-gc`, the `gc` function comes from a fresh context made while the
 * flag is briefly on, so the process's own global never gains a `gc`. Returns false when this Node
 * cannot do it.
 */
/** SKEIN_STARTUP_GCS (3): how many collections. */
function collect(gc: GcFunction): void {
  const n = Number(process.env.SKEIN_STARTUP_GCS ?? 3);
  for (let i = 0; i < n; i++) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export function releaseStartupMemory(): boolean {
  if (process.env.SKEIN_KEEP_DESCRIPTORS !== '1') releaseDescriptors();
  try {
    // Started with --expose-gc: use that, and leave the flags alone.
    const own = (globalThis as { gc?: unknown }).gc;
    if (typeof own === 'function') {
      collect(own as GcFunction);
      return true;
    }
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    if (typeof gc !== 'function') return false;
    collect(gc as GcFunction);
    return true;
  } catch {
    return false;
  }
}

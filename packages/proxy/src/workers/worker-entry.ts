// Entry point of a `--concurrency` worker thread: the same source maps and builtin trimming as the
// binary's entry (each worker is its own V8 isolate with its own module graph), then the worker
// itself. V8's flags are process-wide: the main thread's hold on the optimising compilers
// (util/startup-tiering.ts) covers the worker's startup too.
import { importBuiltinsLean } from '../util/lean-builtins.js';
import { enableSourceMaps } from '../util/source-maps.js';

enableSourceMaps();
await importBuiltinsLean();
await import('./data-worker.js');

// Entry point of a `--concurrency` worker thread: the same builtin trimming as the binary's
// entry (each worker is its own V8 isolate with its own module graph), then the worker itself.
import { importBuiltinsLean } from '../util/lean-builtins.js';

await importBuiltinsLean();
await import('./data-worker.js');

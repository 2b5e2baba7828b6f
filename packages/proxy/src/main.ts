// Entry point of skein-proxy: trims Node's builtin module facades (util/lean-builtins.ts) before
// anything imports them, then runs the command (cli.ts).
import { importBuiltinsLean } from './util/lean-builtins.js';

await importBuiltinsLean();
await import('./cli.js');

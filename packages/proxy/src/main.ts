// Entry point of skein-proxy: keeps V8's optimising compilers out of startup
// (util/startup-tiering.ts), trims Node's builtin module facades (util/lean-builtins.ts) before
// anything imports them, then runs the command (cli.ts).
import { holdOptimizingCompilers } from './util/startup-tiering.js';
import { importBuiltinsLean } from './util/lean-builtins.js';
import { enableSourceMaps } from './util/source-maps.js';

holdOptimizingCompilers();
enableSourceMaps();
await importBuiltinsLean();
await import('./cli.js');

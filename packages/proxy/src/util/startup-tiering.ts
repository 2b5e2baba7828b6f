// Keeps V8's top-tier optimising compiler (TurboFan) out of startup. Loading the bootstrap and
// compiling listeners and clusters is hot, one-off code: V8 optimises it, and TurboFan touches
// about 6 MB of the node binary's compiler code (plus its zone memory), which then stay in an
// idle proxy's RSS. The binary's entry turns TurboFan off before anything loads and back on once
// the first configuration is in (and startup memory released), so code that is hot under traffic
// is optimised exactly as before. Maglev (the mid tier) stays on: holding it too saves another
// 1.3 MB but made startup slower by about 0.7 s (measured, see the README). V8's flags are
// process-wide: worker threads follow the main thread. A compiler the command line or
// NODE_OPTIONS turned off stays off.
import v8 from 'node:v8';

const COMPILERS = ['turbofan'] as const;

let held: string[] = [];

/** The held compilers the user did not turn off themselves (`--no-turbofan`, `--jitless`). */
function enabledByUser(): string[] {
  const args = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  if (args.includes('--jitless')) return [];
  return COMPILERS.filter((c) => !args.includes(`--no-${c}`) && !args.includes(`--no${c}`));
}

/** Turns TurboFan off until `releaseOptimizingCompilers`; returns which. */
export function holdOptimizingCompilers(): readonly string[] {
  if (held.length > 0) return held;
  held = enabledByUser();
  for (const c of held) v8.setFlagsFromString(`--no-${c}`);
  return held;
}

/** Turns back on what `holdOptimizingCompilers` turned off; returns which. */
export function releaseOptimizingCompilers(): readonly string[] {
  const released = held;
  for (const c of released) v8.setFlagsFromString(`--${c}`);
  held = [];
  return released;
}

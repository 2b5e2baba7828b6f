// Keeps V8's top-tier optimising compiler (TurboFan) out of startup, and brings the request path to
// it sooner once startup is over. Loading the bootstrap and compiling listeners and clusters is hot,
// one-off code: V8 optimises it, and TurboFan touches about 6 MB of the node binary's compiler code
// (plus its zone memory), which then stay in an idle proxy's RSS. The binary's entry turns TurboFan
// off before anything loads and back on once the first configuration is in (and startup memory
// released). Maglev (the mid tier) stays on: holding it too saves another 1.3 MB but made startup
// slower by about 0.7 s (measured, see the README).
//
// With Maglev on, V8 raises TurboFan's threshold from 3000 to 10000 "invocations" (the weak
// implication maglev → --maglev-overwrite-budget → --invocation-count-for-turbofan=10000; `node
// --v8-options` prints the 3000 before implications), and the budget starts again when a
// function's Maglev code is installed: the request path ran as Maglev code for its first ~10 000
// requests, tens of seconds to minutes for a sidecar. At release the threshold is set to
// TURBOFAN_INVOCATIONS, so hot code reaches TurboFan within a few thousand calls; startup is
// unaffected (TurboFan is held then). V8's flags are process-wide: worker threads follow the main
// thread. A compiler the command line or NODE_OPTIONS turned off stays off, and a TurboFan
// threshold given there is kept.
import v8 from 'node:v8';

const COMPILERS = ['turbofan'] as const;

/** TurboFan's invocation threshold after startup (V8's own without Maglev is 3000; 10000 with it). */
export const TURBOFAN_INVOCATIONS = 1000;

let held: string[] = [];
let thresholdSet = false;

/** The node and V8 flags the process was started with (command line and NODE_OPTIONS). */
function userFlags(): string[] {
  return [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
}

/** The held compilers the user did not turn off themselves (`--no-turbofan`, `--jitless`). */
function enabledByUser(): string[] {
  const args = userFlags();
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

/**
 * Lowers TurboFan's invocation threshold to TURBOFAN_INVOCATIONS, once; returns the flags set (none
 * when TurboFan is off by the user's flags, or the user chose the threshold).
 */
export function tierUpSooner(): readonly string[] {
  if (thresholdSet || !enabledByUser().includes('turbofan')) return [];
  thresholdSet = true;
  if (userFlags().some((a) => /^--invocation[-_]count[-_]for[-_]turbofan(=|$)/.test(a))) return [];
  const flag = `--invocation-count-for-turbofan=${TURBOFAN_INVOCATIONS}`;
  v8.setFlagsFromString(flag);
  return [flag];
}

/**
 * Turns back on what `holdOptimizingCompilers` turned off and lowers TurboFan's threshold
 * (`tierUpSooner`); returns the compilers turned back on.
 */
export function releaseOptimizingCompilers(): readonly string[] {
  const released = held;
  for (const c of released) v8.setFlagsFromString(`--${c}`);
  held = [];
  tierUpSooner();
  return released;
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// V8's flags are process-wide, so each case runs in a child Node on the built module (with Maglev
// off, so that only TurboFan can optimise, and compiling synchronously), asking V8 (natives syntax) whether a hot function was
// optimised while TurboFan was held and after.
const built = new URL('../../dist/util/startup-tiering.js', import.meta.url);

function run(nodeFlags: string[]): { held: string[]; during: boolean; released: string[]; after: boolean } {
  const script = `
    const t = await import(${JSON.stringify(built.href)});
    const f = (x) => { let s = 0; for (let i = 0; i < 50; i++) s += (x * i) % 7; return s; };
    const optimized = () => (%GetOptimizationStatus(f) & 16) !== 0; // bit 4: optimised
    const hot = () => { for (let i = 0; i < 3e5; i++) f(i); };
    const held = t.holdOptimizingCompilers();
    hot();
    const during = optimized();
    const released = t.releaseOptimizingCompilers();
    hot();
    console.log(JSON.stringify({ held, during, released, after: optimized() }));`;
  const out = execFileSync(
    process.execPath,
    // Compiled synchronously: with V8's background compiler, a fresh-clone CI run once checked
    // before TurboFan's job had finished.
    [
      '--allow-natives-syntax',
      '--no-maglev',
      '--no-concurrent-recompilation',
      ...nodeFlags,
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { held: string[]; during: boolean; released: string[]; after: boolean };
}

// After release, with Maglev on (as skein-proxy runs): a loop-free function called CALLS times from
// a caller V8 may not optimise (so that it is not inlined away), compiled synchronously (so that
// the count is exact). With V8's own threshold under Maglev (10000 invocations after its Maglev
// code) it is still Maglev code after 5000 calls; with TURBOFAN_INVOCATIONS (1000) it is TurboFan's.
const CALLS = 5000;
function runCalls(nodeFlags: string[]): { turbofan: boolean; maglev: boolean; setAgain: string[] } {
  const script = `
    const t = await import(${JSON.stringify(built.href)});
    const f = (o) => o.a + o.b;
    const o = { a: 1, b: 2 };
    const calls = (n) => { for (let i = 0; i < n; i++) f(o); };
    %NeverOptimizeFunction(calls);
    t.holdOptimizingCompilers();
    t.releaseOptimizingCompilers();
    calls(${CALLS});
    console.log(JSON.stringify({
      turbofan: %ActiveTierIsTurbofan(f), maglev: %ActiveTierIsMaglev(f), setAgain: t.tierUpSooner() }));`;
  const out = execFileSync(
    process.execPath,
    [
      '--allow-natives-syntax',
      '--no-concurrent-recompilation',
      ...nodeFlags,
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { turbofan: boolean; maglev: boolean; setAgain: string[] };
}

/** `tierUpSooner()`'s first answer in a child started with `nodeFlags`. */
function thresholdFlags(nodeFlags: string[]): string[] {
  const script = `const t = await import(${JSON.stringify(built.href)}); console.log(JSON.stringify(t.tierUpSooner()));`;
  const out = execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe.skipIf(!existsSync(built))('startup tiering (needs the package build)', () => {
  it('keeps hot code unoptimised while held and optimises it once released', () => {
    expect(run([])).toEqual({ held: ['turbofan'], during: false, released: ['turbofan'], after: true });
  });

  it('never turns on a compiler the command line turned off', () => {
    const r = run(['--no-turbofan']);
    expect(r).toEqual({ held: [], during: false, released: [], after: false });
  });

  it('brings hot code to TurboFan within a few thousand calls once released (V8 alone: ~10 000)', () => {
    expect(runCalls([])).toEqual({ turbofan: true, maglev: false, setAgain: [] });
  });

  it("keeps a TurboFan threshold the command line set (V8's 10000 here: still Maglev code)", () => {
    expect(runCalls(['--invocation-count-for-turbofan=10000'])).toEqual({
      turbofan: false,
      maglev: true,
      setAgain: [],
    });
  });

  it('sets the threshold once, and not when TurboFan or the JIT is off', () => {
    expect(thresholdFlags([])).toEqual(['--invocation-count-for-turbofan=1000']);
    expect(thresholdFlags(['--invocation_count_for_turbofan=2000'])).toEqual([]);
    expect(thresholdFlags(['--no-turbofan'])).toEqual([]);
    expect(thresholdFlags(['--jitless'])).toEqual([]);
  });
});

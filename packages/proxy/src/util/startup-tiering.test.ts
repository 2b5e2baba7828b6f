import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// V8's flags are process-wide, so each case runs in a child Node on the built module (with Maglev
// off, so that only TurboFan can optimise), asking V8 (natives syntax) whether a hot function was
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
    ['--allow-natives-syntax', '--no-maglev', ...nodeFlags, '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { held: string[]; during: boolean; released: string[]; after: boolean };
}

describe.skipIf(!existsSync(built))('startup tiering (needs the package build)', () => {
  it('keeps hot code unoptimised while held and optimises it once released', () => {
    expect(run([])).toEqual({ held: ['turbofan'], during: false, released: ['turbofan'], after: true });
  });

  it('never turns on a compiler the command line turned off', () => {
    const r = run(['--no-turbofan']);
    expect(r).toEqual({ held: [], during: false, released: [], after: false });
  });
});

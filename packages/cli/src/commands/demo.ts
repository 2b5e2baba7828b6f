// skeinctl demo: the local grayscale-release demo (see demo/run.ts).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { defaultSteps, type Step } from '../demo/topology.js';

/** Parses --steps: "100/0,90/10,header,fault" (weights as v1/v2, "fault" or "fault:<percent>"). */
export function parseSteps(text: string): Step[] {
  return text.split(',').map((raw) => {
    const s = raw.trim();
    const w = /^(\d+)\/(\d+)$/.exec(s);
    if (w) {
      const v1 = Number(w[1]);
      const v2 = Number(w[2]);
      if (v1 + v2 === 0) throw new Error(`step "${s}": the weights sum to zero`);
      return { kind: 'weights', v1, v2 };
    }
    if (s === 'header') return { kind: 'header', user: 'jason' };
    const f = /^fault(?::(\d+(?:\.\d+)?))?$/.exec(s);
    if (f) {
      const pct = f[1] === undefined ? 10 : Number(f[1]);
      if (pct > 100) throw new Error(`step "${s}": a percentage is at most 100`);
      return { kind: 'fault', abortPercent: pct, status: 503 };
    }
    throw new Error(`unknown step "${s}" (use v1/v2 weights like 90/10, "header" or "fault[:percent]")`);
  });
}

function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'bin/skeind'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the Skein checkout (bin/skeind) above skeinctl');
    dir = up;
  }
  return dir;
}

const defaultStepText = '100/0,90/10,50/50,0/100,header,fault';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run a grayscale release through real Skein sidecars on this machine (no cluster): skeind in ' +
        'directory mode, reviews v1 and v2 and a client on 127.0.<base>.x, each behind its own skein-proxy',
    )
    .option('--duration <seconds>', 'how long each step sends traffic', '8')
    .option('--rps <n>', 'requests per second the client sends', '50')
    .option('--steps <list>', `release steps: v1/v2 weights, "header", "fault[:percent]"`, defaultStepText)
    .option('--base <n>', 'third octet of the loopback addresses used (127.0.<n>.x)', '0')
    .option('--keep', 'keep the temporary directory (config, bootstraps, logs) afterwards')
    .option('--no-mtls', "run without skeind's CA: plaintext between the sidecars")
    .action(
      async (opts: {
        duration: string;
        rps: string;
        steps: string;
        base: string;
        keep?: boolean;
        mtls: boolean;
      }) => {
        const durationSec = Number(opts.duration);
        const rps = Number(opts.rps);
        const base = Number(opts.base);
        if (!(durationSec > 0)) throw new Error('--duration must be a positive number of seconds');
        if (!(rps > 0 && rps <= 5000)) throw new Error('--rps must be between 1 and 5000');
        if (!Number.isInteger(base) || base < 0 || base > 255) throw new Error('--base must be 0..255');
        const steps = opts.steps === defaultStepText ? [...defaultSteps] : parseSteps(opts.steps);
        const { runDemo } = await import('../demo/run.js');
        process.exitCode = await runDemo({
          root: repoRoot(),
          durationSec,
          rps,
          steps,
          base,
          keep: Boolean(opts.keep),
          mtls: opts.mtls,
          out: process.stdout,
        });
      },
    );
}

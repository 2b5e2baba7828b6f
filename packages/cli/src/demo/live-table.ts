// The demo's live table: one row per step, redrawn in place with a progress bar while the step
// runs (on a terminal), printed once when it ends (anywhere else).
import type { StepStats } from './stats.js';

const color = (code: number, s: string, on: boolean) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
export const red = (s: string, on: boolean) => color(31, s, on);
export const green = (s: string, on: boolean) => color(32, s, on);
export const dim = (s: string, on: boolean) => color(2, s, on);

const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export const header = `  ${'step'.padEnd(40)} ${'requests'.padStart(8)} ${'v1'.padStart(6)} ${'v2'.padStart(6)} ${'errors'.padStart(7)} ${'p50'.padStart(8)} ${'p99'.padStart(8)}`;

export function row(title: string, s: StepStats): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const errors = s.expectedErrors + s.unexpectedErrors;
  return `${title.padEnd(40)} ${String(s.requests).padStart(8)} ${pct(s.share('v1')).padStart(6)} ${pct(s.share('v2')).padStart(6)} ${String(errors).padStart(7)} ${`${s.percentile(50).toFixed(1)}ms`.padStart(8)} ${`${s.percentile(99).toFixed(1)}ms`.padStart(8)}`;
}

export class LiveTable {
  private frame = 0;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  get colors(): boolean {
    return this.tty;
  }

  start(): void {
    this.out.write(`${dim(header, this.tty)}\n`);
  }

  /** Redraws the running step's row with its progress (terminal only). */
  progress(title: string, s: StepStats, done: number): void {
    if (!this.tty) return;
    const width = 12;
    const filled = Math.round(Math.min(1, done) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    this.frame = (this.frame + 1) % spinner.length;
    this.out.write(`\r\u001b[2K${spinner[this.frame]} ${row(title, s)} ${bar}`);
  }

  /** Prints the finished step's row with its verdict. */
  finish(title: string, s: StepStats, verdict: { ok: boolean; notes: string[] }): void {
    if (this.tty) this.out.write('\r\u001b[2K');
    const mark = verdict.ok ? green('✔', this.tty) : red('✘', this.tty);
    this.out.write(`${mark} ${row(title, s)}\n`);
    for (const n of verdict.notes)
      this.out.write(`    ${verdict.ok ? dim(n, this.tty) : red(n, this.tty)}\n`);
  }
}

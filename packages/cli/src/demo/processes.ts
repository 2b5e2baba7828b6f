// The demo's child processes: started with their output kept in log files, stopped together,
// and never left behind (SIGTERM, then SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly log: string;
}

export class ProcessGroup {
  private readonly children: Child[] = [];
  private stopping = false;
  /** Called when a child exits while the group is not stopping. */
  onUnexpectedExit: (c: Child, code: number | null, signal: NodeJS.Signals | null) => void = () => {};

  constructor(private readonly logDir: string) {}

  start(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Child {
    const log = join(this.logDir, `${name}.log`);
    const fd = openSync(log, 'a');
    const proc = spawn(command, args, { stdio: ['ignore', fd, fd, 'ipc'], env });
    closeSync(fd);
    const child = { name, proc, log };
    proc.on('exit', (code, signal) => {
      if (!this.stopping) this.onUnexpectedExit(child, code, signal);
    });
    this.children.push(child);
    return child;
  }

  /** Stops every child: SIGTERM, then SIGKILL after `graceMs`. Resolves when all have exited. */
  async stopAll(graceMs = 3000): Promise<void> {
    this.stopping = true;
    const alive = this.children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
    await Promise.all(
      alive.reverse().map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
            c.proc.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.proc.kill('SIGTERM');
          }),
      ),
    );
  }

  get pids(): number[] {
    return this.children.map((c) => c.proc.pid).filter((p): p is number => p !== undefined);
  }
}

/** Resolves when the child sends its 'ready' IPC message, or rejects after `timeoutMs`. */
export function whenReady(c: Child, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`${c.name} did not start within ${timeoutMs} ms (log: ${c.log})`)),
      timeoutMs,
    );
    c.proc.once('message', () => {
      clearTimeout(t);
      resolve();
    });
    c.proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${c.name} exited with ${code} while starting (log: ${c.log})`));
    });
  });
}

/** Polls `probe` until it resolves true, or rejects with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

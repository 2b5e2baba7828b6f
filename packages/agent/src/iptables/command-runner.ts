// The real CommandRunner: child processes, optionally prefixed (e.g. `ip netns exec NS`).
import { spawn } from 'node:child_process';
import type { CommandResult, CommandRunner } from './apply-iptables.js';

export function processRunner(prefix: string[] = []): CommandRunner {
  return {
    run: (cmd, args, input) =>
      new Promise<CommandResult>((resolve) => {
        const all = [...prefix, cmd, ...args];
        const child = spawn(all[0]!, all.slice(1), {
          stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (e) => resolve({ code: 127, stdout, stderr: e.message }));
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        if (child.stdin) {
          child.stdin.on('error', () => undefined);
          child.stdin.end(input);
        }
      }),
  };
}

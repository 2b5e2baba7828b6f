// Starting and supervising the proxy as a child process: its exit is the agent's exit.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface ProxyProcessOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
}

export interface ProxyExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProxyProcess {
  child: ChildProcess;
  exited: Promise<ProxyExit>;
  signal(sig: NodeJS.Signals): void;
}

export function startProxyProcess(o: ProxyProcessOptions): ProxyProcess {
  const child = spawn(o.command, o.args, {
    env: o.env ?? process.env,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    stdio: o.stdio ?? 'inherit',
  });
  const exited = new Promise<ProxyExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
  return {
    child,
    exited,
    signal: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}

/** The agent's exit code for a proxy exit (128 + signal number when killed by a signal). */
export function exitCodeOf(e: ProxyExit): number {
  if (e.code !== null) return e.code;
  const n = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2, SIGHUP: 1 }[e.signal as string];
  return 128 + (n ?? 1);
}

// The built binaries the agent's integration tests run beside it — skeind (directory mode, its CA
// off: the tests start their own) and skein-proxy on a bootstrap file — and a free loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@skein/proxy';
import { waitForReady } from '../../src/lifecycle/wait.js';

/** A free loopback port outside the ephemeral range (@skein/proxy's test helper). */
export { freePort };

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** SIGTERM, then wait for the exit (nothing when it already exited). */
export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export interface SkeindProcess {
  readonly xdsPort: number;
  stop(): Promise<void>;
}

/** bin/skeind on `configDir` with plaintext xDS on a free port, once its /ready answers. */
export async function startSkeind(configDir: string): Promise<SkeindProcess> {
  const xdsPort = await freePort();
  const httpPort = await freePort();
  const child = spawn(
    join(repoRoot, 'bin/skeind'),
    [
      '--config-dir',
      configDir,
      '--xds-addr',
      `127.0.0.1:${xdsPort}`,
      '--http-addr',
      `127.0.0.1:${httpPort}`,
      '--no-ca',
    ],
    { stdio: 'ignore' },
  );
  const ready = await waitForReady({
    url: `http://127.0.0.1:${httpPort}/ready`,
    timeoutMs: 30_000,
    periodMs: 100,
  });
  if (!ready) {
    await stopChild(child);
    throw new Error('skeind did not become ready within 30 s');
  }
  return { xdsPort, stop: () => stopChild(child) };
}

export interface ProxyProcess {
  /** The last 8000 characters of its stderr (its log). */
  stderr(): string;
  stop(): Promise<void>;
}

/** bin/skein-proxy -c `bootstrapFile`. */
export function startSkeinProxy(bootstrapFile: string): ProxyProcess {
  let stderr = '';
  const child = spawn(join(repoRoot, 'bin/skein-proxy'), ['-c', bootstrapFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  return { stderr: () => stderr, stop: () => stopChild(child) };
}

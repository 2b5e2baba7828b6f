// Builds and runs the go-control-plane test server (test/go-control-plane, our go.mod + main.go)
// from the Go module proxy. The binary is cached outside the work tree, keyed by a hash of the
// sources, so a warm run starts at once and nothing built is ever committed.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const SOURCE = join(import.meta.dirname, '..', 'go-control-plane');
const CACHE_ROOT = process.env['SKEIN_CACHE_DIR'] ?? '/var/cache/skein';

export function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Path of the built server, building it first when the cache lacks this version. */
export function buildGoControlPlane(): string {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(SOURCE, f)));
  const dir = join(CACHE_ROOT, `go-control-plane-v0.14.0-${hash.digest('hex').slice(0, 12)}`);
  const bin = join(dir, 'go-control-plane-test-server');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('go', ['build', '-o', bin, '.'], {
    cwd: SOURCE,
    env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`go build failed: ${r.stderr}`);
  return bin;
}

export interface GoControlPlane {
  port: number;
  /** Lines the server printed (ack/nack/snapshot). */
  lines: string[];
  /** Resolves with the first printed line (already seen or later) matching the pattern. */
  waitForLine(re: RegExp): Promise<string>;
  send(command: string): void;
  stop(): Promise<void>;
}

export async function startGoControlPlane(args: string[]): Promise<GoControlPlane> {
  const bin = buildGoControlPlane();
  const child: ChildProcessWithoutNullStreams = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const waitForLine = (re: RegExp): Promise<string> => {
    const found = lines.find((l) => re.test(l));
    return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ re, resolve }));
  };
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = await Promise.race([
    waitForLine(/^ready \d+$/),
    exited.then(() => {
      throw new Error(`go-control-plane exited: ${lines.join('\n')}`);
    }),
  ]);
  return {
    port: Number(ready.split(' ')[1]),
    lines,
    waitForLine,
    send: (c) => child.stdin.write(c + '\n'),
    stop: async () => {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

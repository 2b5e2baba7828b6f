// The benchmark's xDS servers as child processes: the trivial floor (bench/floor-server.ts, a
// change is a stdin line) and skeind (dist/main.js in directory mode, a change is a file written
// atomically into its config directory, so skeind learns of it through its real ingestion).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAMESPACES, nsOf, serviceYaml, sidecarYaml, virtualServiceYaml, workloadYaml } from './workload.ts';
import type { BenchProxy } from './workload.ts';

export type Protocol = 'sotw' | 'vhds';
export type ChangeKind = 'vs' | 'endpoint';
export type Sizes = Record<string, { resources: number; bytes: number }>;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface Server {
  readonly name: string;
  readonly address: string;
  readonly child: ChildProcess;
  readonly isFloor: boolean;
  readonly scoped: boolean;
  /** Makes a change; returns when it was made (epochMs()). */
  change(kind: ChangeKind): number;
  /** Stops the process and removes what it left behind. */
  stop(): Promise<void>;
}

function waitLine(child: ChildProcess, stream: 'stdout' | 'stderr', re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const s = child[stream];
    if (!s) return reject(new Error('no stream'));
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = buf.match(re);
      if (m) {
        s.off('data', onData);
        resolve(m);
      }
    };
    s.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${buf.slice(-2000)}`)));
  });
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.stdin?.end();
  child.kill('SIGTERM');
  await exited;
}

/** Feeds a child's stderr to `onLine` line by line. */
function followLines(child: ChildProcess, onLine: (line: string) => void): void {
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
}

/** The floor; with `onLog`, it traces its changes (`push trace` lines, as skeind's). */
export async function startFloor(
  protocol: Protocol,
  sizes?: Sizes,
  onLog?: (line: string) => void,
): Promise<Server> {
  // FLOOR_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=D`): the floor profiled as skeind is.
  const nodeOptions = process.env['FLOOR_NODE_OPTIONS']?.split(' ').filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      join(import.meta.dirname, 'floor-server.ts'),
      ...(sizes ? ['--sizes', JSON.stringify(sizes)] : []),
      ...(onLog ? ['--trace'] : []),
    ],
    { stdio: ['pipe', 'pipe', onLog ? 'pipe' : 'inherit'] },
  );
  if (onLog)
    followLines(child, (l) => (l.includes('"push trace"') ? onLog(l) : process.stderr.write(`${l}\n`)));
  const m = await waitLine(child, 'stdout', /listening (\S+)/);
  return {
    name: `${sizes ? 'floor (skeind-sized)' : 'floor'} [${protocol}]`,
    address: m[1] ?? '',
    child,
    isFloor: true,
    scoped: false,
    change: (kind) => {
      const t = epochMs();
      child.stdin?.write(kind === 'vs' ? 'RDS\n' : 'EDS\n');
      return t;
    },
    stop: () => stopChild(child),
  };
}

export interface SkeindOptions {
  readonly services: number;
  readonly proxies: readonly BenchProxy[];
  readonly scoped: boolean;
  readonly protocol: Protocol;
  /** Lines skeind writes on stderr (JSON logs), e.g. for `--trace-push`. */
  readonly onLog?: (line: string) => void;
  readonly tracePush?: boolean;
  /** Another build of skeind (its dist directory) for an A/B run, named with `label`. */
  readonly dist?: string | undefined;
  readonly label?: string | undefined;
}

export async function startSkeind(o: SkeindOptions): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-bench-'));
  writeFileSync(
    join(dir, 'services.yaml'),
    Array.from({ length: o.services }, (_, i) => serviceYaml(i)).join('---\n'),
  );
  writeFileSync(join(dir, 'workloads.yaml'), o.proxies.map((p) => workloadYaml(p)).join('---\n'));
  writeFileSync(
    join(dir, 'virtualservices.yaml'),
    Array.from({ length: o.services - 1 }, (_, i) => virtualServiceYaml(i + 1, 100)).join('---\n'),
  );
  writeFileSync(join(dir, 'vs-0.yaml'), virtualServiceYaml(0, 100));
  if (o.scoped)
    writeFileSync(
      join(dir, 'sidecars.yaml'),
      Array.from({ length: NAMESPACES }, (_, i) => sidecarYaml(i)).join('---\n'),
    );
  const main = join(o.dist ?? join(import.meta.dirname, '../dist'), 'main.js');
  const nodeOptions = process.env['SKEIND_NODE_OPTIONS']?.split(' ').filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [
      ...nodeOptions,
      main,
      '--config-dir',
      dir,
      '--xds-addr',
      '127.0.0.1:0',
      '--http-addr',
      '127.0.0.1:0',
      '--no-ca',
      '--debounce-after',
      '20',
      '--debounce-max',
      '200',
      '--file-settle',
      '20',
      '--log-level',
      process.env['SKEIND_LOG'] ?? 'info',
      ...(o.tracePush ? ['--trace-push'] : []),
      // Extra flags for the build under test (not for a --baseline build, which may not know them).
      ...(o.dist ? [] : (process.env['SKEIND_ARGS']?.split(' ').filter(Boolean) ?? [])),
    ],
    { stdio: ['ignore', process.env['SKEIND_STDOUT'] ? 'inherit' : 'ignore', 'pipe'] },
  );
  const started = await waitLine(child, 'stderr', /"msg":"skeind started","xds":"([^"]+)"/);
  // Always read (a pipe nobody drains would block skeind's logging).
  followLines(child, (l) => {
    if (process.env['SKEIND_LOG']) process.stderr.write(`${l}\n`);
    o.onLog?.(l);
  });
  // A VirtualService change moves 10% of svc-0's traffic (cycling 90 … 10, never a no-op); an
  // endpoint change adds a WorkloadEntry to svc-0.
  let weight = 100;
  let extra = 0;
  return {
    name: `skeind${o.label ? ` ${o.label}` : ''} (${o.scoped ? 'Sidecar-scoped' : 'unscoped'}) [${o.protocol}]`,
    address: started[1] ?? '',
    child,
    isFloor: false,
    scoped: o.scoped,
    change: (kind) => {
      const t = epochMs();
      if (kind === 'vs') {
        weight = weight <= 10 ? 90 : weight - 10;
        writeAtomic(join(dir, 'vs-0.yaml'), virtualServiceYaml(0, weight));
      } else {
        const n = ++extra;
        writeAtomic(
          join(dir, `extra-${n}.yaml`),
          `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: extra-${n}, namespace: ${nsOf(0)} }\nspec: { address: 10.200.${(n >> 8) & 255}.${n & 255}, labels: { app: svc-0, version: v3 } }\n`,
        );
      }
      return t;
    },
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

export function peakRssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return Number(m?.[1] ?? 0) / 1024;
}

/** The 1-, 5- and 15-minute load averages. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * Scheduler counters (ms) from /proc: a process's CPU time over all its threads, its main
 * thread's CPU time and time spent runnable but waiting for a core; and the machine's busy CPU.
 */
export interface SchedSample {
  procCpu: number;
  mainCpu: number;
  mainWait: number;
  machineBusy: number;
  /** CPU ms of the threads other than the main one, by thread name (V8Worker, libuv-worker, …). */
  others: Record<string, number>;
}

const schedstat = (path: string): [number, number] => {
  try {
    const [run, wait] = readFileSync(path, 'utf8').split(' ').map(Number);
    return [(run ?? 0) / 1e6, (wait ?? 0) / 1e6];
  } catch {
    return [0, 0]; // a thread that exited between listing and reading
  }
};

export function schedSample(pid: number): SchedSample {
  let procCpu = 0;
  const others: Record<string, number> = {};
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const cpu = schedstat(`/proc/${pid}/task/${t}/schedstat`)[0];
    procCpu += cpu;
    if (t === String(pid)) continue;
    const name = threadName(`/proc/${pid}/task/${t}/comm`);
    others[name] = (others[name] ?? 0) + cpu;
  }
  const [mainCpu, mainWait] = schedstat(`/proc/${pid}/task/${pid}/schedstat`);
  // /proc/stat's first line: user nice system idle iowait irq softirq steal, in clock ticks (10 ms).
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const busy = ticks.reduce((a, b, i) => (i === 3 || i === 4 ? a : a + (b || 0)), 0);
  return { procCpu, mainCpu, mainWait, machineBusy: busy * 10, others };
}

const threadName = (path: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '?'; // a thread that exited between listing and reading
  }
};

/** `after - before`, field by field. */
export const schedDelta = (before: SchedSample, after: SchedSample): SchedSample => ({
  procCpu: after.procCpu - before.procCpu,
  mainCpu: after.mainCpu - before.mainCpu,
  mainWait: after.mainWait - before.mainWait,
  machineBusy: after.machineBusy - before.machineBusy,
  others: Object.fromEntries(
    Object.entries(after.others).map(([name, cpu]) => [name, cpu - (before.others[name] ?? 0)]),
  ),
});

// `npm run bench:control-plane`: skeind with 1000 services and 2000 simulated proxies (each its
// own gRPC connection and ADS stream), with and without Sidecar scoping, against a trivial floor
// xDS server measured in the same run with the same clients. Prints convergence p50/p99 for a
// VirtualService change and an endpoint change, time until every proxy holds full config, server
// CPU seconds and peak RSS, and skeind's ratios to the floor.
// Options: --services N --proxies N (defaults 1000 / 2000); --protocols sotw,vhds (default both):
// `sotw` clients speak state-of-the-world ADS, `vhds` clients what skein's opted-in sidecars
// speak — delta ADS with VHDS (node metadata SKEIN_VHDS) — and the floor then speaks delta too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TypeUrl } from '@skein/api-types';
import { AdsClient } from '../test/support/ads-client.ts';
import {
  hostOf,
  NAMESPACES,
  nsOf,
  PORT,
  proxies,
  serviceYaml,
  sidecarYaml,
  virtualServiceYaml,
  workloadYaml,
  type BenchProxy,
} from './workload.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    proxies: { type: 'string', default: '2000' },
    scenarios: { type: 'string', default: 'floor,unscoped,floor-sized,scoped' },
    protocols: { type: 'string', default: 'sotw,vhds' },
  },
});
const SCENARIOS = new Set((values.scenarios ?? '').split(','));
const SERVICES = Number(values.services);
const PROXIES = Number(values.proxies);
const here = import.meta.dirname;
const PROTOCOLS = (values.protocols ?? '')
  .split(',')
  .filter((p): p is Protocol => p === 'sotw' || p === 'vhds');
type Protocol = 'sotw' | 'vhds';
const VIRTUAL_HOST = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
const SOTW_TYPES = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];
const typesOf = (p: Protocol): string[] => (p === 'vhds' ? [...SOTW_TYPES, VIRTUAL_HOST] : SOTW_TYPES);

interface Server {
  readonly name: string;
  readonly address: string;
  readonly child: ChildProcess;
  /** Makes a change; resolves with the time it was made (performance.now()). */
  change(kind: 'vs' | 'endpoint'): number;
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

type Sizes = Record<string, { resources: number; bytes: number }>;

async function startFloor(protocol: Protocol, sizes?: Sizes): Promise<Server> {
  const child = spawn(
    process.execPath,
    [join(here, 'floor-server.ts'), ...(sizes ? ['--sizes', JSON.stringify(sizes)] : [])],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const m = await waitLine(child, 'stdout', /listening (\S+)/);
  return {
    name: `${sizes ? 'floor (skeind-sized)' : 'floor'} [${protocol}]`,
    address: m[1] ?? '',
    child,
    change: (kind) => {
      const t = performance.now();
      child.stdin?.write(kind === 'vs' ? 'RDS\n' : 'EDS\n');
      return t;
    },
  };
}

async function startSkeind(
  scoped: boolean,
  all: BenchProxy[],
  protocol: Protocol,
): Promise<Server & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-bench-'));
  writeFileSync(
    join(dir, 'services.yaml'),
    Array.from({ length: SERVICES }, (_, i) => serviceYaml(i)).join('---\n'),
  );
  writeFileSync(join(dir, 'workloads.yaml'), all.map((p) => workloadYaml(p)).join('---\n'));
  writeFileSync(
    join(dir, 'virtualservices.yaml'),
    Array.from({ length: SERVICES - 1 }, (_, i) => virtualServiceYaml(i + 1, 100)).join('---\n'),
  );
  writeFileSync(join(dir, 'vs-0.yaml'), virtualServiceYaml(0, 100));
  if (scoped)
    writeFileSync(
      join(dir, 'sidecars.yaml'),
      Array.from({ length: NAMESPACES }, (_, i) => sidecarYaml(i)).join('---\n'),
    );
  const main = join(here, '../dist/main.js');
  const child = spawn(
    process.execPath,
    [
      ...(process.env['SKEIND_NODE_OPTIONS'] ? process.env['SKEIND_NODE_OPTIONS'].split(' ') : []),
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
    ],
    {
      stdio: ['ignore', process.env['SKEIND_STDOUT'] ? 'inherit' : 'ignore', 'pipe'],
    },
  );
  const started = await waitLine(child, 'stderr', /"msg":"skeind started","xds":"([^"]+)"/);
  const address = started[1] ?? '';
  child.stderr?.on('data', (d: Buffer) => {
    if (process.env['SKEIND_LOG']) process.stderr.write(d);
  });
  let weight = 100;
  let extra = 0;
  return {
    name: `${scoped ? 'skeind (Sidecar-scoped)' : 'skeind (unscoped)'} [${protocol}]`,
    address,
    child,
    dir,
    change: (kind) => {
      const t = performance.now();
      if (kind === 'vs') writeAtomic(join(dir, 'vs-0.yaml'), virtualServiceYaml(0, (weight -= 10)));
      else
        writeAtomic(
          join(dir, `extra-${++extra}.yaml`),
          `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: extra-${extra}, namespace: ${nsOf(0)} }\nspec: { address: 10.200.0.${extra}, labels: { app: svc-0, version: v3 } }\n`,
        );
      return t;
    },
  };
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}
function peakRssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return Number(m?.[1] ?? 0) / 1024;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

interface Result {
  name: string;
  /** What the first proxy received per type at full config (count, bytes). */
  sizes: Sizes;
  fullConfigMs: number;
  vs: { p50: number; p99: number; affected: number };
  ep: { p50: number; p99: number; affected: number };
  cpuS: number;
  rssMb: number;
}

const progress = (msg: string): void => void process.stderr.write(`  … ${msg}\n`);

async function run(
  server: Server,
  all: BenchProxy[],
  scoped: boolean,
  isFloor: boolean,
  protocol: Protocol,
): Promise<Result> {
  const TYPES = typesOf(protocol);
  const vhds = protocol === 'vhds';
  progress(`${server.name}: connecting ${all.length} proxies to ${server.address}`);
  const clients: { c: AdsClient; p: BenchProxy }[] = [];
  const t0 = performance.now();
  for (const p of all) {
    const visible = scoped
      ? Array.from({ length: SERVICES }, (_, i) => i).filter((i) => nsOf(i) === p.namespace)
      : Array.from({ length: SERVICES }, (_, i) => i);
    const c = new AdsClient({
      address: server.address,
      nodeId: p.nodeId,
      metadata: {
        NAMESPACE: p.namespace,
        LABELS: p.labels,
        INSTANCE_IPS: p.ip,
        ...(vhds ? { SKEIN_VHDS: 'true' } : {}),
      },
      decode: false,
      follow: false,
      delta: vhds,
      subscribe: {
        [TypeUrl.Cluster]: [],
        [TypeUrl.ClusterLoadAssignment]: visible.map((i) => `outbound|${PORT}||${hostOf(i)}`),
        [TypeUrl.Listener]: [],
        [TypeUrl.RouteConfiguration]: [String(PORT)],
        // What Envoy subscribes to once the route configuration says VHDS: its full set.
        ...(vhds ? { [VIRTUAL_HOST]: [String(PORT)] } : {}),
      },
    });
    clients.push({ c, p });
    if (clients.length % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(
    clients.map(({ c }) => c.until((x) => TYPES.every((t) => (x.types.get(t)?.responses ?? 0) > 0), 600_000)),
  );
  const fullConfigMs = performance.now() - t0;
  const first = clients[0]?.c;
  const sizes: Sizes = Object.fromEntries(
    TYPES.map((t) => [t, first?.types.get(t)?.last ?? { resources: 0, bytes: 0 }]),
  );
  progress(`${server.name}: every proxy holds full config after ${fullConfigMs.toFixed(0)} ms`);

  const converge = async (
    kind: 'vs' | 'endpoint',
  ): Promise<{ p50: number; p99: number; affected: number }> => {
    const type =
      kind === 'vs' ? (vhds ? VIRTUAL_HOST : TypeUrl.RouteConfiguration) : TypeUrl.ClusterLoadAssignment;
    const affected = clients.filter(({ p }) => isFloor || !scoped || p.namespace === nsOf(0));
    const before = new Map(affected.map(({ c }) => [c, c.types.get(type)?.responses ?? 0]));
    const start = server.change(kind);
    await Promise.all(
      affected.map(({ c }) =>
        c.until((x) => (x.types.get(type)?.responses ?? 0) > (before.get(x) ?? 0), 600_000),
      ),
    );
    progress(`${server.name}: ${kind} change converged on ${affected.length} proxies`);
    const lat = affected.map(({ c }) => (c.receivedAt.get(type) ?? start) - start);
    return { p50: pct(lat, 50), p99: pct(lat, 99), affected: affected.length };
  };
  const vs = await converge('vs');
  const ep = await converge('endpoint');
  const pid = server.child.pid ?? 0;
  const result = {
    name: server.name,
    sizes,
    fullConfigMs,
    vs,
    ep,
    cpuS: cpuSeconds(pid),
    rssMb: peakRssMb(pid),
  };
  for (const { c } of clients) c.close();
  return result;
}

async function stop(server: Server): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.stdin?.end();
  server.child.kill('SIGTERM');
  await exited;
}

const f = (n: number): string => n.toFixed(0).padStart(7);
async function main(): Promise<void> {
  const all = proxies(SERVICES, PROXIES);
  console.log(
    `skeind benchmark: ${SERVICES} services, ${PROXIES} proxies (one gRPC connection + ADS stream each: ${PROTOCOLS.join(', ')}), node ${process.version}`,
  );
  const results: Result[] = [];
  for (const protocol of PROTOCOLS) {
    const tag = ` [${protocol}]`;
    if (SCENARIOS.has('floor')) {
      const floor = await startFloor(protocol);
      results.push(await run(floor, all, false, true, protocol));
      await stop(floor);
    }
    for (const scoped of [false, true]) {
      if (scoped && SCENARIOS.has('floor-sized')) {
        // The floor again, now serving what skeind's unscoped proxies received, byte for byte in
        // size: how long the clients and the machine take to move those bytes with no server work.
        const sizes = results.find((r) => r.name === `skeind (unscoped)${tag}`)?.sizes;
        if (sizes) {
          const floor = await startFloor(protocol, sizes);
          results.push(await run(floor, all, false, true, protocol));
          await stop(floor);
        }
      }
      if (!SCENARIOS.has(scoped ? 'scoped' : 'unscoped')) continue;
      progress(`starting skeind (${scoped ? 'Sidecar-scoped' : 'unscoped'}, ${protocol})`);
      const s = await startSkeind(scoped, all, protocol);
      try {
        results.push(await run(s, all, scoped, false, protocol));
      } finally {
        await stop(s);
        rmSync(s.dir, { recursive: true, force: true });
      }
    }
  }
  console.log(
    '\nserver                            full-config ms   VS p50   VS p99 (n)      EP p50   EP p99 (n)      CPU s  peak RSS MB',
  );
  for (const r of results)
    console.log(
      `${r.name.padEnd(33)} ${f(r.fullConfigMs)}        ${f(r.vs.p50)}  ${f(r.vs.p99)} (${r.vs.affected})  ${f(r.ep.p50)}  ${f(r.ep.p99)} (${r.ep.affected})  ${r.cpuS.toFixed(1).padStart(6)}  ${r.rssMb.toFixed(0).padStart(8)}`,
    );
  for (const protocol of PROTOCOLS) {
    const tag = ` [${protocol}]`;
    const base = results.find((r) => r.name === `floor${tag}`);
    const sized = results.find((r) => r.name === `floor (skeind-sized)${tag}`);
    const unscoped = results.find((r) => r.name === `skeind (unscoped)${tag}`);
    if (base)
      for (const r of results.filter((x) => x.name.endsWith(tag) && x.name.startsWith('skeind')))
        console.log(
          `${r.name}: VS p99 ${(r.vs.p99 / base.vs.p99).toFixed(2)}x floor, endpoint p99 ${(r.ep.p99 / base.ep.p99).toFixed(2)}x floor, full config ${(r.fullConfigMs / base.fullConfigMs).toFixed(2)}x floor`,
        );
    if (sized && unscoped)
      console.log(
        `skeind (unscoped)${tag} against the skeind-sized floor: VS p99 ${(unscoped.vs.p99 / sized.vs.p99).toFixed(2)}x, full config ${(unscoped.fullConfigMs / sized.fullConfigMs).toFixed(2)}x`,
      );
    if (unscoped)
      console.log(
        `  sizes per proxy${tag}: ${Object.entries(unscoped.sizes)
          .map(([t, x]) => `${t.split('.').pop()} ${x.resources}/${(x.bytes / 1024).toFixed(0)} KiB`)
          .join(', ')}`,
      );
  }
  process.exit(0);
}

void main();

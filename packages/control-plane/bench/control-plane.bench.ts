// `npm run bench:control-plane`: skeind with 1000 services and 2000 simulated proxies (each its
// own gRPC connection and ADS stream), with and without Sidecar scoping, against a trivial floor
// xDS server measured in the same run with its own equal set of clients. Every server keeps its
// clients for the whole run, and the changes are interleaved — round after round, a VirtualService
// change to the floor, to each skeind, then an endpoint change to each — so load drift on this
// shared machine hits all servers alike. Prints, per server, time until every proxy holds full
// config, CPU seconds and peak RSS, and per change kind the medians over rounds of p50/p99
// convergence and the median of the per-round ratios of skeind's p99 to the floor's.
// Options: --services N --proxies N (1000 / 2000); --protocols sotw,vhds (both); --rounds N (6;
// the servers after the floor swap order every other round, so an even number is fair);
// --warmup N (4: rounds of changes before the measured ones, reported apart: a fresh process's V8
// compiles the change path during its first changes — skeind's helper threads 57, 57, 143, 25,
// 48, 32, 17, 5 ms in the first eight, ~1 ms from the ninth on — so these rounds measure start-up,
// not convergence); --gap MS (quiet time after each convergence, 500); --scenarios floor,unscoped,floor-sized,scoped;
// --trace: skeind runs with --trace-push and each change's stage timestamps are printed;
// --baseline DIST: an A/B run — a second unscoped skeind from another build's dist directory
// (e.g. a copy of dist made before a change), interleaved with the others.
import { parseArgs } from 'node:util';
import { TypeUrl } from '@skein/api-types';
import { AdsClient } from '../test/support/ads-client.ts';
import {
  cpuSeconds,
  loadAverage,
  peakRssMb,
  schedDelta,
  schedSample,
  startFloor,
  startSkeind,
  type ChangeKind,
  type Protocol,
  type SchedSample,
  type Server,
  type Sizes,
} from './servers.ts';
import { stageOffsets, TraceLog, type StageOffsets } from './trace.ts';
import { hostOf, nsOf, PORT, proxies, type BenchProxy } from './workload.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    proxies: { type: 'string', default: '2000' },
    scenarios: { type: 'string', default: 'floor,unscoped,floor-sized,scoped' },
    protocols: { type: 'string', default: 'sotw,vhds' },
    rounds: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '4' },
    gap: { type: 'string', default: '500' },
    trace: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const SCENARIOS = new Set((values.scenarios ?? '').split(','));
const SERVICES = Number(values.services);
const PROXIES = Number(values.proxies);
const ROUNDS = Number(values.rounds);
const WARMUP = Number(values.warmup);
const GAP_MS = Number(values.gap);
const TRACE = values.trace === true;
const PROTOCOLS = (values.protocols ?? '')
  .split(',')
  .filter((p): p is Protocol => p === 'sotw' || p === 'vhds');
const VIRTUAL_HOST = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
const SOTW_TYPES = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];
const typesOf = (p: Protocol): string[] => (p === 'vhds' ? [...SOTW_TYPES, VIRTUAL_HOST] : SOTW_TYPES);
const KINDS: readonly ChangeKind[] = ['vs', 'endpoint'];

interface Convergence {
  p50: number;
  p99: number;
  affected: number;
  trace?: StageOffsets | undefined;
  /** Per type, what an affected client received on average for this change (by the end of the gap). */
  received: Record<string, { responses: number; bytes: number }>;
  /** From the change to the last receipt: the scheduler's counters of this process and the server's. */
  sched: { bench: SchedSample; server: SchedSample; wallMs: number };
}

/** A server with its own clients, kept for the whole run. */
interface Group {
  readonly server: Server;
  readonly protocol: Protocol;
  readonly clients: { c: AdsClient; p: BenchProxy }[];
  readonly fullConfigMs: number;
  /** What the first proxy received per type at full config (count, bytes). */
  readonly sizes: Sizes;
  readonly rounds: Record<ChangeKind, Convergence[]>;
  /** The warm-up rounds' results (not in the medians; printed apart). */
  readonly warmup: Record<ChangeKind, Convergence[]>;
  readonly trace: TraceLog | undefined;
  /** The server process's CPU seconds and peak RSS, read after the last round. */
  usage?: { cpuS: number; rssMb: number };
}

const progress = (msg: string): void => void process.stderr.write(`  … ${msg}\n`);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  return s.length % 2 === 1 ? (s[Math.floor(mid)] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

async function connect(
  server: Server,
  all: readonly BenchProxy[],
  protocol: Protocol,
  trace: TraceLog | undefined,
): Promise<Group> {
  const TYPES = typesOf(protocol);
  const vhds = protocol === 'vhds';
  progress(`${server.name}: connecting ${all.length} proxies to ${server.address}`);
  const clients: { c: AdsClient; p: BenchProxy }[] = [];
  const t0 = performance.now();
  for (const p of all) {
    const visible = server.scoped
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
    clients.map(({ c }) => c.until((x) => TYPES.every((t) => (x.types.get(t)?.responses ?? 0) > 0), 900_000)),
  );
  const fullConfigMs = performance.now() - t0;
  const first = clients[0]?.c;
  const sizes: Sizes = Object.fromEntries(
    TYPES.map((t) => [t, first?.types.get(t)?.last ?? { resources: 0, bytes: 0 }]),
  );
  progress(`${server.name}: every proxy holds full config after ${fullConfigMs.toFixed(0)} ms`);
  return {
    server,
    protocol,
    clients,
    fullConfigMs,
    sizes,
    rounds: { vs: [], endpoint: [] },
    warmup: { vs: [], endpoint: [] },
    trace,
  };
}

/** One change to one server: change → every affected proxy received the new version. */
async function converge(g: Group, kind: ChangeKind): Promise<Convergence> {
  const vhds = g.protocol === 'vhds';
  const type =
    kind === 'vs' ? (vhds ? VIRTUAL_HOST : TypeUrl.RouteConfiguration) : TypeUrl.ClusterLoadAssignment;
  const affected = g.clients.filter(
    ({ p }) => g.server.isFloor || !g.server.scoped || p.namespace === nsOf(0),
  );
  const before = new Map(affected.map(({ c }) => [c, c.types.get(type)?.responses ?? 0]));
  const counts = (): Map<AdsClient, Map<string, { responses: number; bytes: number }>> =>
    new Map(
      affected.map(({ c }) => [
        c,
        new Map([...c.types].map(([t, v]) => [t, { responses: v.responses, bytes: v.bytes }])),
      ]),
    );
  const countsBefore = counts();
  const pid = g.server.child.pid ?? 0;
  const benchBefore = schedSample(process.pid);
  const serverBefore = schedSample(pid);
  const start = g.server.change(kind);
  await Promise.all(
    affected.map(({ c }) =>
      c.until((x) => (x.types.get(type)?.responses ?? 0) > (before.get(x) ?? 0), 600_000),
    ),
  );
  const sched = {
    bench: schedDelta(benchBefore, schedSample(process.pid)),
    server: schedDelta(serverBefore, schedSample(pid)),
    wallMs: performance.timeOrigin + performance.now() - start,
  };
  // receivedAt is performance.now() of this process: on the epochMs() scale by timeOrigin.
  const received = affected.map(({ c }) => performance.timeOrigin + (c.receivedAt.get(type) ?? 0));
  const lat = received.map((t) => t - start);
  const trace = g.trace ? stageOffsets(await g.trace.after(start), start, received) : undefined;
  // Everything the change caused (other types too) has arrived by the end of the quiet gap.
  await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  const sums: Record<string, { responses: number; bytes: number }> = {};
  for (const [c, after] of counts())
    for (const [t, a] of after) {
      const b = countsBefore.get(c)?.get(t) ?? { responses: 0, bytes: 0 };
      const sum = (sums[t] ??= { responses: 0, bytes: 0 });
      sum.responses += (a.responses - b.responses) / affected.length;
      sum.bytes += (a.bytes - b.bytes) / affected.length;
    }
  const receivedPerClient = Object.fromEntries(Object.entries(sums).filter(([, v]) => v.responses > 0));
  return {
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    affected: affected.length,
    trace,
    received: receivedPerClient,
    sched,
  };
}

const f = (n: number, w = 7): string => n.toFixed(0).padStart(w);
const x = (n: number): string => `${n.toFixed(2)}x`;

async function runProtocol(protocol: Protocol, all: readonly BenchProxy[]): Promise<Group[]> {
  const groups: Group[] = [];
  const startedGroup = async (make: (trace: TraceLog | undefined) => Promise<Server>, traced: boolean) => {
    const trace = traced ? new TraceLog() : undefined;
    const server = await make(trace);
    try {
      groups.push(await connect(server, all, protocol, trace));
    } catch (err) {
      await server.stop();
      throw err;
    }
  };
  const skeind =
    (scoped: boolean, dist?: string) =>
    (trace: TraceLog | undefined): Promise<Server> =>
      startSkeind({
        services: SERVICES,
        proxies: all,
        scoped,
        protocol,
        tracePush: trace !== undefined,
        ...(trace ? { onLog: (l: string) => trace.line(l) } : {}),
        ...(dist ? { dist, label: 'baseline' } : {}),
      });
  try {
    if (SCENARIOS.has('floor'))
      await startedGroup(
        (trace) => startFloor(protocol, undefined, trace ? (l) => trace.line(l) : undefined),
        TRACE,
      );
    if (SCENARIOS.has('unscoped')) await startedGroup(skeind(false), TRACE);
    if (values.baseline) await startedGroup(skeind(false, values.baseline), TRACE);
    // The floor again, serving what skeind's unscoped proxies received, byte for byte in size:
    // how long the clients and the machine take to move those bytes with no server work.
    const unscoped = groups.find((g) => g.server.name === `skeind (unscoped) [${protocol}]`);
    if (SCENARIOS.has('floor-sized') && unscoped)
      await startedGroup(() => startFloor(protocol, unscoped.sizes), false);
    if (SCENARIOS.has('scoped')) await startedGroup(skeind(true), TRACE);
    progress(`${protocol}: ${WARMUP} warm-up rounds, load ${loadAverage()}`);
    // The floor goes first in every round; the servers after it run in reverse order on odd
    // rounds, since the slot right after the floor measured slower (skeind's push loop ~1.7x in
    // both orders of an A/B pair: README, Benchmark) — so an A/B pair shares that slot evenly.
    const order = (r: number): Group[] => {
      const [first, ...rest] = groups;
      return first?.server.isFloor && r % 2 === 1 ? [first, ...rest.reverse()] : groups;
    };
    // Warm-up rounds first (kept apart), then the measured ones, all in the same order.
    const run = async (n: number, label: string, into: (g: Group) => Group['rounds']): Promise<void> => {
      for (let r = 0; r < n; r++)
        for (const kind of KINDS)
          for (const g of order(r)) {
            const res = await converge(g, kind);
            into(g)[kind].push(res);
            progress(
              `${label} ${r + 1} ${kind}: ${g.server.name} p99 ${res.p99.toFixed(0)} ms (${res.affected})`,
            );
          }
    };
    await run(WARMUP, 'warm-up', (g) => g.warmup);
    progress(`${protocol}: ${ROUNDS} interleaved rounds, load ${loadAverage()}`);
    const roundsStart = performance.now();
    await run(ROUNDS, 'round', (g) => g.rounds);
    progress(`rounds took ${((performance.now() - roundsStart) / 1000).toFixed(1)} s, load ${loadAverage()}`);
    for (const g of groups) {
      const pid = g.server.child.pid ?? 0;
      g.usage = { cpuS: cpuSeconds(pid), rssMb: peakRssMb(pid) };
    }
    return groups;
  } finally {
    for (const g of groups) for (const { c } of g.clients) c.close();
    await Promise.all(groups.map((g) => g.server.stop()));
  }
}

function report(protocol: Protocol, groups: Group[]): void {
  const tag = `[${protocol}]`;
  console.log(
    `\n${tag} ${ROUNDS} rounds; per server: full config, CPU, peak RSS; convergence medians over rounds`,
  );
  console.log(
    'server                            full-config ms   VS p50   VS p99 (n)      EP p50   EP p99 (n)      CPU s  peak RSS MB',
  );
  for (const g of groups) {
    const m = (k: ChangeKind, which: 'p50' | 'p99') => median(g.rounds[k].map((r) => r[which]));
    const { cpuS, rssMb } = g.usage ?? { cpuS: NaN, rssMb: NaN };
    console.log(
      `${g.server.name.padEnd(33)} ${f(g.fullConfigMs)}        ${f(m('vs', 'p50'))}  ${f(m('vs', 'p99'))} (${g.rounds.vs[0]?.affected ?? 0})  ${f(m('endpoint', 'p50'))}  ${f(m('endpoint', 'p99'))} (${g.rounds.endpoint[0]?.affected ?? 0})  ${cpuS.toFixed(1).padStart(6)}  ${rssMb.toFixed(0).padStart(8)}`,
    );
  }
  const floor = groups.find((g) => g.server.name === `floor ${tag}`);
  if (!floor) return;
  console.log(`p99 per round (ms), VS | EP:`);
  for (const g of groups)
    console.log(
      `  ${g.server.name.padEnd(33)} ${g.rounds.vs.map((r) => f(r.p99, 6)).join('')} |${g.rounds.endpoint.map((r) => f(r.p99, 6)).join('')}`,
    );
  if (floor.warmup.vs.length > 0) {
    console.log(`warm-up rounds (not in the figures above), p99 per round (ms) and / floor, VS | EP:`);
    for (const g of groups) {
      const line = (k: ChangeKind): string =>
        g.warmup[k]
          .map(
            (r, i) => `${f(r.p99, 6)}${g === floor ? '' : ` ${x(r.p99 / (floor.warmup[k][i]?.p99 ?? NaN))}`}`,
          )
          .join('');
      console.log(`  ${g.server.name.padEnd(33)} ${line('vs')} |${line('endpoint')}`);
    }
  }
  for (const g of groups.filter((x) => x !== floor)) {
    const ratios = (k: ChangeKind): number[] =>
      g.rounds[k].map((r, i) => r.p99 / (floor.rounds[k][i]?.p99 ?? NaN));
    const show = (k: ChangeKind): string => {
      const rs = ratios(k);
      return `${x(median(rs))} (${x(Math.min(...rs))}–${x(Math.max(...rs))})`;
    };
    console.log(
      `${g.server.name}: p99 / floor, median of per-round ratios: VS ${show('vs')}, endpoint ${show('endpoint')}; full config ${x(g.fullConfigMs / floor.fullConfigMs)}`,
    );
  }
  const unscoped = groups.find((g) => g.server.name === `skeind (unscoped) ${tag}`);
  const baseline = groups.find((g) => g.server.name === `skeind baseline (unscoped) ${tag}`);
  if (unscoped && baseline) {
    const show = (k: ChangeKind): string => {
      const rs = unscoped.rounds[k].map((r, i) => r.p99 / (baseline.rounds[k][i]?.p99 ?? NaN));
      return `${x(median(rs))} (${x(Math.min(...rs))}–${x(Math.max(...rs))})`;
    };
    console.log(
      `skeind (unscoped) / baseline, median of per-round p99 ratios: VS ${show('vs')}, endpoint ${show('endpoint')}`,
    );
  }
  if (unscoped)
    console.log(
      `  sizes per proxy ${tag}: ${Object.entries(unscoped.sizes)
        .map(([t, s]) => `${t.split('.').pop()} ${s.resources}/${(s.bytes / 1024).toFixed(0)} KiB`)
        .join(', ')}`,
    );
  for (const g of groups)
    for (const k of KINDS) {
      const rounds = g.rounds[k];
      const types = [...new Set(rounds.flatMap((r) => Object.keys(r.received)))].sort();
      console.log(
        `  ${g.server.name} ${k}: received per affected client per change (median over rounds): ${types
          .map((t) => {
            const m = (w: 'responses' | 'bytes'): number =>
              median(rounds.map((r) => r.received[t]?.[w] ?? 0));
            return `${t.split('.').pop()} ${m('responses').toFixed(2)} responses / ${m('bytes').toFixed(0)} B`;
          })
          .join(', ')}`,
      );
    }
  for (const g of groups)
    for (const k of KINDS) {
      const rounds = g.rounds[k];
      const m = (pick: (r: Convergence) => number): string => median(rounds.map(pick)).toFixed(0);
      console.log(
        `  ${g.server.name} ${k}: change → last receipt ${m((r) => r.sched.wallMs)} ms; CPU ms in it (median over rounds): server ${m((r) => r.sched.server.procCpu)} (main thread ${m((r) => r.sched.server.mainCpu)}, waiting for a core ${m((r) => r.sched.server.mainWait)}), bench ${m((r) => r.sched.bench.procCpu)} (main ${m((r) => r.sched.bench.mainCpu)}, waiting ${m((r) => r.sched.bench.mainWait)}), machine busy ${m((r) => r.sched.bench.machineBusy)} of ${m((r) => 2 * r.sched.wallMs)}`,
      );
      const names = [...new Set(rounds.flatMap((r) => Object.keys(r.sched.server.others)))].sort();
      console.log(
        `    server's other threads, CPU ms (median over rounds): ${names
          .map((n) => `${n} ${m((r) => r.sched.server.others[n] ?? 0)}`)
          .join(
            ', ',
          )}; per round: server ${rounds.map((r) => r.sched.server.procCpu.toFixed(0)).join(' ')}, its other threads ${rounds.map((r) => (r.sched.server.procCpu - r.sched.server.mainCpu).toFixed(0)).join(' ')}`,
      );
    }
  for (const g of groups.filter((x) => x.trace))
    for (const k of KINDS) {
      const traces = g.rounds[k].flatMap((r) => (r.trace ? [r.trace] : []));
      if (traces.length === 0) continue;
      // Every stage any round logged, in time order; a stage some rounds lack (e.g. a push no file
      // scan led to) is the median of the rounds that have it, with their count.
      const stages = [...new Set(traces.flatMap((t) => Object.keys(t)))].map((s) => {
        const xs = traces.flatMap((t) => (t[s] === undefined ? [] : [t[s]]));
        return { s, ms: median(xs), n: xs.length };
      });
      stages.sort((a, b) => a.ms - b.ms);
      console.log(
        `  ${g.server.name} ${k} stages, ms after the change (median of ${traces.length}): ${stages
          .map(({ s, ms, n }) => `${s} ${ms.toFixed(1)}${n < traces.length ? ` (${n} rounds)` : ''}`)
          .join(', ')}`,
      );
    }
}

async function main(): Promise<void> {
  const all = proxies(SERVICES, PROXIES);
  console.log(
    `skeind benchmark: ${SERVICES} services, ${PROXIES} proxies per server (one gRPC connection + ADS stream each: ${PROTOCOLS.join(', ')}), ${ROUNDS} interleaved rounds after ${WARMUP} warm-up rounds, node ${process.version}, load ${loadAverage()}`,
  );
  for (const protocol of PROTOCOLS) report(protocol, await runProtocol(protocol, all));
  console.log(
    `\nload at the end ${loadAverage()}; bench process peak RSS ${peakRssMb(process.pid).toFixed(0)} MB`,
  );
  process.exit(0);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

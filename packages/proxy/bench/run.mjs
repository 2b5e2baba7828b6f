// `npm run bench:proxy`: skein-proxy against direct, nginx, HAProxy, the http-proxy package and a
// minimal undici proxy, in front of the same upstream (1 KB responses, HTTP/1.1 keep-alive), one
// worker each. Interleaved rounds; medians printed with ratios to nginx / http-proxy / undici in
// the same run. Installs nginx, haproxy and wrk from Debian when missing (as root).
// Options (env): BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_RPS (1000), BENCH_CONNECTIONS (16),
// BENCH_BASELINE (a saved packages/proxy/dist directory, e.g. main's build, run as one more target),
// BENCH_ONLY (comma-separated target names to run, e.g. "skein-proxy,skein node:http,nginx").
// "skein node:http" is the same build with SKEIN_PROXY_HTTP1=legacy (node:http in, undici out);
// "skein-proxy c2" the default --concurrency 2; "node relay floor" a byte relay with no HTTP at all
// (bench/node-relay.mjs), the CPU floor of Node's sockets for this traffic. Every skein target's
// route carries Istio's default retry policy, as a sidecar's outbound route does
// (bench/bootstrap.mjs; BENCH_ROUTE=plain drops it), except "skein plain route" and "baseline plain"
// (never have one).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { cpuSplit, cpuTicks, fixedRate, percentiles, pidsOf, pin, rssMb, saturation } from './measure.mjs';
import { measureIdleRss } from './idle-rss.mjs';
import { skeinBootstrap } from './bootstrap.mjs';
import { startNginxUpstream } from './nginx-upstream.mjs';
import { freePort, waitPort } from './ports.mjs';
import { alive, ensureDebian, processStarter, stop } from './processes.mjs';
import { printRounds, printSummary } from './report.mjs';
import { benchTargets } from './targets.mjs';

const root = join(import.meta.dirname, '..', '..', '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RPS = Number(process.env.BENCH_RPS ?? 1000);
const CONNS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
// Method switches (README, "Bench fairness"): BENCH_SCHEDULE ('split', the default: every
// fixed-rate round before any saturation round; 'interleaved': the earlier schedule), BENCH_SETTLE
// (seconds of fixed-rate lead-in before each measured window, 1), BENCH_PIN ("<target cpus>:<other
// cpus>", e.g. "1:0": targets on CPU 1, upstream + load generator + wrk on CPU 0; off by default),
// BENCH_TRACE_GC=1, BENCH_ORDER=reverse, BENCH_AA=1 (an A/A: the plain route in the first two rows),
// BENCH_RESTART=0 (one process per target for the whole run), BENCH_WARM ('steady', the default, or
// 'burst'; see warmToSteady).
const AA = process.env.BENCH_AA === '1';
if (AA) process.env.BENCH_ROUTE = 'plain';
const SCHEDULE = process.env.BENCH_SCHEDULE ?? 'split';
const SETTLE = Number(process.env.BENCH_SETTLE ?? 1);
const [PIN_TARGET, PIN_OTHER] = (process.env.BENCH_PIN ?? '').split(':');
const TRACE_GC = process.env.BENCH_TRACE_GC === '1';
const SLICES = Math.max(1, Number(process.env.BENCH_SLICES ?? 3));
const WARM = process.env.BENCH_WARM ?? 'steady';
if (WARM !== 'steady' && WARM !== 'burst') throw new Error(`BENCH_WARM: 'steady' or 'burst', not ${WARM}`);
// Every target is restarted (and warmed up again) before each fixed-rate round, so the rounds sample
// fresh processes: one Node process's CPU per request differs from another's of the same build by
// up to ~25% (A/A: 1.08x / 1.26x with one process per target, 1.03x / 0.99x restarted; README).
// BENCH_RESTART=0 keeps one process per target for the whole run.
const RESTART = process.env.BENCH_RESTART !== '0';
const work = mkdtempSync(join(tmpdir(), 'skein-bench-'));
const { start, children } = processStarter({ root, work, traceGc: TRACE_GC });

async function main() {
  ensureDebian([
    ['nginx', 'nginx-light'],
    ['haproxy', 'haproxy'],
    ['wrk', 'wrk'],
  ]);
  console.log('building skein-proxy...');
  execFileSync('bash', [join(root, 'scripts/run.sh'), 'nx', 'run', 'proxy:build', '--outputStyle=static'], {
    cwd: root,
    stdio: 'ignore',
  });
  const node = process.execPath;

  // Upstream: an nginx instance returning 1 KB from memory (cheap, so proxies dominate the cost).
  const { port: upstreamPort, proc: upstream } = await startNginxUpstream(work, (cmd, args) =>
    start('upstream', cmd, args),
  );
  await waitPort(upstreamPort);
  pin(pidsOf(upstream), PIN_OTHER);

  const targets = await benchTargets({ root, work, upstreamPort, start });

  if (AA) process.env.BENCH_ONLY = 'skein-proxy,skein plain route,nginx';
  if (process.env.BENCH_ONLY) {
    const only = new Set(process.env.BENCH_ONLY.split(','));
    targets.splice(0, targets.length, ...targets.filter((t) => only.has(t.name)));
  }
  // BENCH_ORDER=reverse: the targets start, warm up and take their slots in the opposite order.
  if (process.env.BENCH_ORDER === 'reverse') targets.reverse();
  const results = Object.fromEntries(
    ['direct', ...targets.map((t) => t.name)].map((n) => [
      n,
      { p50: [], p90: [], p99: [], cpu: [], helpers: [], ticks: [], gc: [], rss: [], sat: [] },
    ]),
  );
  for (const t of targets) {
    t.proc = await t.launch();
    await waitPort(t.port);
    pin(pidsOf(t.proc), PIN_TARGET);
  }
  if (process.env.BENCH_DEBUG) {
    for (const t of targets) {
      const r = await fetch(`http://127.0.0.1:${t.port}/`);
      console.log(t.name, r.status, (await r.text()).slice(0, 200));
    }
  }
  pin([process.pid], PIN_OTHER);
  // Warm up every path (JIT, pools).
  for (const t of targets) await fixedRateShort(t.port);
  const warmed = [await warmToSteady(targets)];

  const load = { rps: RPS, conns: CONNS, seconds: SECONDS };
  // The order rotates every round, so no target keeps a slot (e.g. the one after direct's).
  const order = (round) => {
    const shift = (round - 1) % targets.length;
    return [...targets.slice(shift), ...targets.slice(0, shift)];
  };
  // One slice of a target's fixed-rate window: CPU (schedstat ns and ticks), GCs, latencies.
  const slice = async (t, seconds) => {
    let before = { ns: 0, helperNs: 0 };
    let ticks = 0;
    let gc0;
    const r = await fixedRate(t.port, {
      ...load,
      seconds,
      settle: SETTLE / SLICES,
      mark: () => {
        gc0 = t.proc.gc?.();
        ticks = cpuTicks(t.pids);
        before = cpuSplit(t.pids);
      },
    });
    const after = cpuSplit(t.pids);
    const ns = after.ns - before.ns;
    const helperNs = after.helperNs - before.helperNs;
    const gc1 = t.proc.gc?.();
    const gc = gc1 ? Object.fromEntries(Object.entries(gc1).map(([k, v]) => [k, v - gc0[k]])) : undefined;
    if (r.errors) console.log(`  ${t.name}: ${r.errors} errors (first: ${r.firstError})`);
    return { ns, helperNs, ticks: cpuTicks(t.pids) - ticks, n: r.n, lat: r.lat, gc };
  };
  /**
   * One round of fixed-rate windows: each target's SECONDS split into SLICES slices, taken in turn
   * (direct, then the targets, rotating), so that every target's window spans the same stretch of
   * the machine's time and a burst of someone else's load falls on all of them alike.
   */
  const fixedRound = async (round, members = targets) => {
    const acc = new Map(
      [...members, direct].map((t) => [t, { ns: 0, helperNs: 0, ticks: 0, n: 0, lat: [], gc: {} }]),
    );
    for (let k = 0; k < SLICES; k++) {
      const turn = order((round - 1) * SLICES + k + 1).filter((t) => members.includes(t));
      for (const t of [direct, ...turn]) {
        const r = await slice(t, SECONDS / SLICES);
        const a = acc.get(t);
        a.ns += r.ns;
        a.helperNs += r.helperNs;
        a.ticks += r.ticks;
        a.n += r.n;
        a.lat.push(...r.lat);
        for (const [g, v] of Object.entries(r.gc ?? {})) a.gc[g] = (a.gc[g] ?? 0) + v;
      }
    }
    const base = percentiles(acc.get(direct).lat.sort((x, y) => x - y));
    for (const k of ['p50', 'p90', 'p99']) results.direct[k].push(base[k]);
    for (const t of members) {
      const a = acc.get(t);
      const p = percentiles(a.lat.sort((x, y) => x - y));
      const res = results[t.name];
      for (const k of ['p50', 'p90', 'p99']) res[k].push(p[k] - base[k]);
      res.cpu.push((a.ns / 1e9 / a.n) * 1000);
      res.helpers.push(a.helperNs / a.ns);
      res.ticks.push((a.ticks / TCK / a.n) * 1000);
      if (t.proc.gc)
        res.gc.push(
          Object.entries(a.gc)
            .map(([g, v]) => `${g[0]}${v}`)
            .join(''),
        );
      res.rss.push(rssMb(t.proc));
    }
  };
  const direct = { name: 'direct', port: upstreamPort, pids: [], proc: { pids: [] } };
  /** A target stopped (every process of its tree, waited for) and started again on its port. */
  const restart = async (t) => {
    const pids = t.pids;
    for (const p of pids) stop({ pid: p });
    for (let i = 0; i < 400 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 25));
    t.proc = await t.launch();
    await waitPort(t.port);
    pin(pidsOf(t.proc), PIN_TARGET);
    t.pids = pidsOf(t.proc);
  };
  const sat = (port) => saturation(port, { conns: CONNS, seconds: SECONDS, cpus: PIN_OTHER });
  for (const t of targets) t.pids = pidsOf(t.proc);
  if (SCHEDULE === 'interleaved') {
    // The schedule before branch proxy-bench: each target's wrk phase right after its CPU window.
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}/${ROUNDS}`);
      // (With direct's latency measured beside each target's window rather than once a round.)
      for (const t of order(round)) {
        await fixedRound(round, [t]);
        results[t.name].sat.push(sat(t.port));
      }
      results.direct.sat.push(sat(upstreamPort));
    }
  } else {
    // Every fixed-rate (CPU and latency) round first, then every saturation round: no CPU window
    // follows a wrk phase (see the README's "Bench fairness").
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`fixed-rate round ${round}/${ROUNDS}`);
      if (RESTART && round > 1) {
        for (const t of targets) await restart(t);
        for (const t of order(round)) await fixedRateShort(t.port);
        warmed.push(await warmToSteady(targets));
      }
      await fixedRound(round);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`saturation round ${round}/${ROUNDS}`);
      results.direct.sat.push(sat(upstreamPort));
      for (const t of order(round)) results[t.name].sat.push(sat(t.port));
    }
  }
  printRounds(results, targets, warmed);

  // Idle RSS: skein-proxy with 100 clusters vs a bare Node 24 process (bench/idle-rss.mjs).
  for (const t of targets) for (const p of t.proc.pids ?? [t.proc.pid]) stop({ pid: p });
  const idleRounds = Number(process.env.BENCH_IDLE_ROUNDS ?? 5);
  const idleVariant = (name, cmd, pre, concurrency) => ({
    name,
    launch: (port) => {
      const f = join(work, `idle-${port}.json`);
      writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort, 100)));
      return start(name, cmd, [
        ...pre,
        '-c',
        f,
        '--concurrency',
        String(concurrency),
        '--log-level',
        'warning',
      ]);
    },
  });
  const idleVariants = [
    {
      name: 'bare node',
      listens: false,
      launch: () => start('bare', node, ['-e', 'setInterval(() => {}, 1000)']),
    },
    idleVariant('skein-proxy --concurrency 1', join(root, 'bin/skein-proxy'), [], 1),
    idleVariant('skein-proxy --concurrency 2', join(root, 'bin/skein-proxy'), [], 2),
  ];
  if (process.env.BENCH_BASELINE) {
    const bm = join(process.env.BENCH_BASELINE, 'main.js');
    idleVariants.push(idleVariant('baseline --concurrency 1', node, ['--enable-source-maps', bm], 1));
    idleVariants.push(idleVariant('baseline --concurrency 2', node, ['--enable-source-maps', bm], 2));
  }
  const idle = await measureIdleRss({ variants: idleVariants, rounds: idleRounds, freePort, waitPort, stop });

  printSummary({
    results,
    targets,
    run: {
      rounds: ROUNDS,
      schedule: SCHEDULE,
      settle: SETTLE,
      pin: PIN_TARGET ? process.env.BENCH_PIN : undefined,
      seconds: SECONDS,
      rps: RPS,
      conns: CONNS,
      aa: AA,
    },
    idle,
    idleRounds,
  });
}

/**
 * The warm-up after every start, after the 2000-request burst (`BENCH_WARM`): 'steady' (the
 * default) loads each target that has V8 helper threads (the Node targets: `V8Worker`, its
 * background compilers and GC) alone at the bench's rate, one second at a time, until in two
 * consecutive seconds those threads took under 5% of its CPU — V8 has compiled the request path
 * and the target runs as it will for as long as it serves this rate — with at least
 * `BENCH_WARM_MIN` (3) and at most
 * `BENCH_WARM_SECONDS` (20) seconds. nginx and HAProxy (one thread each, nothing to compile) get
 * the burst only. 'burst': the burst only, for every target (the default before 27 Nov: a fresh
 * Node target was then measured while V8 was still compiling its path; README, "Steady state").
 * Returns the seconds each warmed target took.
 */
async function warmToSteady(targets) {
  const took = new Map();
  if (WARM !== 'steady') return took;
  const min = Number(process.env.BENCH_WARM_MIN ?? 3);
  const max = Number(process.env.BENCH_WARM_SECONDS ?? 20);
  for (const t of targets) {
    const pids = pidsOf(t.proc);
    if (cpuSplit(pids).helpers === 0) continue;
    const pool = new Pool(`http://127.0.0.1:${t.port}`, { connections: CONNS, pipelining: 1 });
    let quiet = 0;
    let s = 0;
    while (s < max && !(quiet >= 2 && s >= min)) {
      const a = cpuSplit(pids);
      await fixedRate(t.port, { rps: RPS, conns: CONNS, seconds: 1, pool });
      const b = cpuSplit(pids);
      const all = b.ns - a.ns;
      const helpers = b.helperNs - a.helperNs;
      quiet = all > 0 && helpers / all < 0.05 ? quiet + 1 : 0;
      s++;
    }
    await pool.close();
    took.set(t.name, s);
  }
  return took;
}

async function fixedRateShort(port) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNS });
  await Promise.all(
    Array.from({ length: 2000 }, async () => (await pool.request({ path: '/', method: 'GET' })).body.dump()),
  );
  await pool.close();
}

try {
  await main();
} finally {
  for (const p of children) stop(p);
  await new Promise((r) => setTimeout(r, 300));
  rmSync(work, { recursive: true, force: true });
}

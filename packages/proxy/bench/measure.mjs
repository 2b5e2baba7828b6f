// The measuring half of `npm run bench:proxy` (run.mjs and the mTLS pairs): a target's CPU in
// nanoseconds (every thread of the process tree, from /proc/<pid>/task/<tid>/schedstat), the
// fixed-rate load with a settle lead-in before the measured window, wrk saturation, optional
// taskset pinning, CPU ticks and RSS beside them, and per-round ratio statistics (medians with min–max).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Pool } from 'undici';

/** The process and all its descendants (nginx and haproxy fork workers). */
export function tree(pid) {
  const out = [pid];
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  for (const c of (r.stdout ?? '').split('\n').filter(Boolean)) out.push(...tree(Number(c)));
  return out;
}

/** Every pid of a target: its process (or a pair's processes) and their descendants. */
export const pidsOf = (proc) => (proc.pids ?? [proc.pid]).flatMap(tree);

/** Each thread of the processes: its name and its run time in ns (schedstat). */
function threads(pids) {
  const out = [];
  for (const pid of pids) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
        out.push({ comm: readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(), ns });
      } catch {}
    }
  }
  return out;
}

const sumNs = (ts) => ts.reduce((a, t) => a + t.ns, 0);
const isV8Helper = (t) => t.comm === 'V8Worker';

/**
 * CPU time (ns) that the given pids' threads have run. schedstat's run time is exact, unlike
 * /proc/<pid>/stat's utime+stime in 10 ms ticks (±1 tick at each end of a 3 s window was ±3–6%).
 */
export function cpuNs(pids) {
  return sumNs(threads(pids));
}

/**
 * From one walk of the processes' threads: their CPU time in ns (`ns`, as cpuNs), that of V8's
 * helper threads among them (`helperNs`: `V8Worker`, its background compilers and GC), and how many
 * helpers there are (`helpers`: 0 for a target that is not Node).
 */
export function cpuSplit(pids) {
  const all = threads(pids);
  const helpers = all.filter(isV8Helper);
  return { ns: sumNs(all), helperNs: sumNs(helpers), helpers: helpers.length };
}

/** CPU ticks (utime + stime, 1/CLK_TCK s) of a target: the old measure, kept beside schedstat's. */
export function cpuTicks(pids) {
  let total = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      total += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return total;
}

/** Resident memory (MB) of every process of a target. */
export function rssMb(proc) {
  let kb = 0;
  for (const p of pidsOf(proc)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {}
  }
  return kb / 1024;
}

/** Pins every thread of the pids to `cpus` (a taskset list such as "1"); no-op when cpus is empty. */
export function pin(pids, cpus) {
  if (!cpus) return;
  for (const pid of pids) spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
/** p50/p90/p99 of sorted latencies. */
export const percentiles = (sorted) => ({
  p50: pct(sorted, 0.5),
  p90: pct(sorted, 0.9),
  p99: pct(sorted, 0.99),
});
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Fixed-rate load: `conns` connections, `rps` in total, for `settle + seconds` seconds. Only the
 * last `seconds` are measured: `mark()` is called when they begin (the caller reads CPU there) and
 * only requests started after it count. The lead-in puts the target in its steady state at this
 * rate (timers armed, caches warm, whatever the previous phase left behind run off) before CPU counts.
 * With no lead-in every request counts. `pool` keeps the caller's connections across calls (it is
 * then not closed); `sent` is every request made, lead-in included.
 */
export async function fixedRate(port, { rps, conns, seconds, settle = 0, mark = () => {}, pool: given }) {
  const pool = given ?? new Pool(`http://127.0.0.1:${port}`, { connections: conns, pipelining: 1 });
  const lat = [];
  let errors = 0;
  let sent = 0;
  let firstError;
  const interval = 1000 / (rps / conns);
  const begin = performance.now();
  const from = begin + settle * 1000;
  const end = from + seconds * 1000;
  let marked = false;
  let markAt = from;
  const markOnce = () => {
    if (marked) return;
    marked = true;
    markAt = performance.now();
    mark();
  };
  const markTimer = settle > 0 ? setTimeout(markOnce, Math.max(0, from - performance.now())) : markOnce();
  await Promise.all(
    Array.from({ length: conns }, async (_, i) => {
      let next = begin + (i * interval) / conns;
      while (next < end) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const t0 = performance.now();
        const counted = marked && t0 >= markAt;
        sent++;
        try {
          const r = await pool.request({ path: '/', method: 'GET', headers: { host: 'bench' } });
          await r.body.dump();
          if (r.statusCode !== 200) {
            errors++;
            firstError ??= `status ${r.statusCode} ${JSON.stringify(r.headers['x-envoy-response-flags'] ?? '')}`;
          }
        } catch (e) {
          errors++;
          firstError ??= String(e);
        }
        if (counted) lat.push(performance.now() - t0);
        next += interval;
      }
    }),
  );
  clearTimeout(markTimer);
  markOnce();
  if (!given) await pool.close();
  lat.sort((a, b) => a - b);
  return { ...percentiles(lat), lat, n: lat.length, sent, errors, firstError };
}

/** Saturation requests/s with `wrk -t1 -c<conns>` (optionally pinned with taskset). */
export function saturation(port, { conns, seconds, cpus }) {
  const wrk = ['wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '-H', 'Host: bench', `http://127.0.0.1:${port}/`];
  const [cmd, ...args] = cpus ? ['taskset', '-c', cpus, ...wrk] : wrk;
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
}

/** Element-wise a[i] / b[i] (rounds where either is missing drop out). */
export const perRound = (a, b, op = (x, y) => x / y) =>
  a.map((x, i) => op(x, b[i] ?? NaN)).filter((x) => Number.isFinite(x));

/** "median (min–max)" of a list, with d decimals. */
export function medRange(xs, d = 2) {
  if (xs.length === 0) return 'n/a';
  return `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
}

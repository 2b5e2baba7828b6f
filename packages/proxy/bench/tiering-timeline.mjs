// CPU per request of fresh skein-proxy processes second by second, from their first request on (how
// soon each reaches its steady state): every variant is a dist directory with optional extra Node
// flags, started with --concurrency 1 on one nginx upstream (1 KB) and loaded at the same time at
// RPS over 16 connections each; CPU from /proc/<pid>/task/*/schedstat (ns). With TIMELINE_TRACE=1
// each runs under --trace-opt --trace-deopt and the report adds, per second, the TurboFan
// compilations (and of which watched function: TIMELINE_WATCH, a comma-separated list of names) and
// the deoptimisations (the trace costs CPU itself: read trace runs for timing, not for CPU).
// Usage (under flock /tmp/skein-bench.lock):
//   node tiering-timeline.mjs <seconds> <rps> <name>=<dist dir | relay>[,<node flag>...] ...
// (`relay`: the node relay floor, bench/node-relay.mjs, instead of a skein-proxy build.)
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { skeinBootstrap } from './bootstrap.mjs';
import { cpuNs, fixedRate, median } from './measure.mjs';
import { sideScriptSetup } from './nginx-upstream.mjs';
import { freePort, waitAnswers } from './ports.mjs';

const [secArg = '30', rpsArg = '1000', ...specs] = process.argv.slice(2);
const SEC = Number(secArg);
const RPS = Number(rpsArg);
const CONNS = 16;
const TRACE = process.env.TIMELINE_TRACE === '1';
// TIMELINE_RAW=<path>: every trace line, stamped with its second and the requests sent before it, to <path>.<name>.
const RAW = process.env.TIMELINE_RAW;
// TIMELINE_VERBOSE=1 adds --trace-opt-verbose (V8's tiering decisions, e.g. a delay after an IC change).
const VERBOSE = process.env.TIMELINE_VERBOSE === '1';
const WATCH = new Set((process.env.TIMELINE_WATCH ?? 'run,routeRequest,viaHttp1,request,receive').split(','));
if (specs.length === 0)
  throw new Error('usage: tiering-timeline.mjs <seconds> <rps> <name>=<dist>[,<flag>...] ...');
const { work, kids, up } = await sideScriptSetup('skein-tiering');

/** The current second of the load (−1 before it), for stamping trace lines. */
let second = -1;

/** Starts one variant; with TRACE, its --trace-opt/--trace-deopt lines are counted per second. */
async function start(spec) {
  const [name, rest] = spec.split(/=(.*)/s);
  const [dist, ...flags] = rest.split(',');
  const px = await freePort();
  // `relay` instead of a dist directory: the node relay floor (bench/node-relay.mjs).
  const relay = dist === 'relay';
  if (!relay) writeFileSync(join(work, `${name}.json`), JSON.stringify(skeinBootstrap(px, up)));
  // `bin:<script>` instead of a dist directory: that launcher (e.g. bin/skein-proxy) with the bootstrap.
  const bin = dist.startsWith('bin:') ? dist.slice(4) : undefined;
  const proxyArgs = ['-c', join(work, `${name}.json`), '--concurrency', '1', '--log-level', 'warning'];
  const args = bin
    ? proxyArgs
    : [
        ...flags,
        ...(TRACE ? ['--trace-opt', '--trace-deopt', ...(VERBOSE ? ['--trace-opt-verbose'] : [])] : []),
        ...(relay
          ? [join(import.meta.dirname, 'node-relay.mjs'), String(px), String(up)]
          : [join(dist, 'main.js'), ...proxyArgs]),
      ];
  const p = spawn(bin ?? process.execPath, args, { stdio: ['ignore', TRACE ? 'pipe' : 'ignore', 'inherit'] });
  kids.push(p);
  const v = {
    name,
    px,
    pid: p.pid,
    cpu: [],
    turbofan: [],
    watched: [],
    deopts: [],
    sent: 0,
    first: new Map(),
  };
  if (TRACE) {
    createInterface({ input: p.stdout }).on('line', (line) => {
      if (RAW) appendFileSync(`${RAW}.${name}`, `${second + 1} ${v.sent} ${line}\n`);
      if (second < 0) return;
      const fn = /<JSFunction (\S+)/.exec(line)?.[1];
      if (/^\[completed compiling/.test(line) && /TURBOFAN/.test(line)) {
        v.turbofan[second] = (v.turbofan[second] ?? 0) + 1;
        if (fn && WATCH.has(fn)) {
          (v.watched[second] ??= []).push(fn);
          if (!v.first.has(fn)) v.first.set(fn, { second, sent: v.sent });
        }
      } else if (/^\[bailout \(kind: deopt/.test(line)) {
        v.deopts[second] = (v.deopts[second] ?? 0) + 1;
        if (fn && WATCH.has(fn)) (v.watched[second] ??= []).push(`deopt ${fn}`);
      }
    });
  }
  const exited = new Promise((_, reject) =>
    p.once('exit', (code) => reject(new Error(`${name} exited (${code}) before answering`))),
  );
  exited.catch(() => {});
  await Promise.race([waitAnswers(px, `${name} (${dist})`), exited]);
  v.pool = new Pool(`http://127.0.0.1:${px}`, { connections: CONNS });
  return v;
}

const variants = [];
for (const s of specs) variants.push(await start(s));
// TIMELINE_BURST=<n>: n requests at once on every variant before the timeline (the bench's warm-up burst is 2000).
const BURST = Number(process.env.TIMELINE_BURST ?? 0);
if (BURST > 0)
  await Promise.all(
    variants.map((v) =>
      Promise.all(
        Array.from({ length: BURST }, async () =>
          (await v.pool.request({ path: '/', method: 'GET', headers: { host: 'bench' } })).body.dump(),
        ),
      ),
    ),
  );
for (second = 0; second < SEC; second++) {
  // TIMELINE_GAP=<s>: every variant idle that long before each measured second (the bench's targets
  // idle between their slices while the others are measured).
  const gap = Number(process.env.TIMELINE_GAP ?? 0);
  if (gap > 0 && second > 0) await new Promise((r) => setTimeout(r, gap * 1000));
  const before = variants.map((v) => cpuNs([v.pid]));
  const sent = await Promise.all(
    variants.map(async (v) => {
      // TIMELINE_FRESH_POOL=1: new connections every second (as the bench's slices), else one pool.
      const pool = process.env.TIMELINE_FRESH_POOL === '1' ? undefined : v.pool;
      const r = await fixedRate(v.px, { rps: RPS, conns: CONNS, seconds: 1, pool });
      if (r.errors) throw new Error(`${v.name}: ${r.errors} failed requests (first: ${r.firstError})`);
      v.sent += r.sent;
      return r.sent;
    }),
  );
  variants.forEach((v, i) => v.cpu.push((cpuNs([v.pid]) - before[i]) / 1e6 / sent[i]));
}
await new Promise((r) => setTimeout(r, 200)); // the last trace lines
const cols = variants.map((v) => v.name.padStart(10)).join(' ');
const ratioHead =
  variants.length > 1
    ? variants
        .slice(1)
        .map((v) => `${v.name}/${variants[0].name}`.padStart(14))
        .join('')
    : '';
console.log(
  `second  ${cols}  (s per 1000 req)${ratioHead}${TRACE ? '   TurboFan compiles / deopts; watched' : ''}`,
);
for (let s = 0; s < SEC; s++) {
  const row = variants.map((v) => v.cpu[s].toFixed(4).padStart(10)).join(' ');
  const ratios = variants
    .slice(1)
    .map((v) => (v.cpu[s] / variants[0].cpu[s]).toFixed(3).padStart(14))
    .join('');
  const trace = TRACE
    ? '   ' +
      variants
        .map(
          (v) =>
            `${v.turbofan[s] ?? 0}/${v.deopts[s] ?? 0}${v.watched[s] ? ` [${v.watched[s].join(' ')}]` : ''}`,
        )
        .join(' | ')
    : '';
  console.log(`${String(s + 1).padStart(6)}  ${row}${' '.repeat(16)}${ratios}${trace}`);
}
// Medians over windows of the run: the first 5 s, 5–10 s, 10–20 s, 20 s to the end.
const windows = [
  [0, 5],
  [5, 10],
  [10, 20],
  [20, SEC],
].filter(([a, b]) => a < SEC && a < b);
for (const [a, b] of windows) {
  const meds = variants.map((v) => median(v.cpu.slice(a, Math.min(b, SEC))));
  const ratios = variants
    .slice(1)
    .map((v) => median(v.cpu.slice(a, b).map((c, i) => c / variants[0].cpu[a + i])).toFixed(3))
    .join(' ');
  console.log(
    `seconds ${a + 1}–${Math.min(b, SEC)}: median ${variants.map((v, i) => `${v.name} ${meds[i].toFixed(4)}`).join(', ')}${variants.length > 1 ? `; median per-second ratio ${ratios}` : ''}`,
  );
}
if (TRACE)
  for (const v of variants)
    console.log(
      `${v.name}: first TurboFan code of ${[...WATCH].map((f) => (v.first.has(f) ? `${f} at second ${v.first.get(f).second + 1} (after ${v.first.get(f).sent} requests)` : `${f} never`)).join(', ')}`,
    );
for (const v of variants) await v.pool.close();
for (const k of kids) k.kill('SIGTERM');
process.exit(0); // (a traced child's stdout pipe would keep this process up)

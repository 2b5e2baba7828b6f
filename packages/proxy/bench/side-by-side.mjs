// CPU per request of two skein-proxy builds side by side (an A/B on a noisy machine): both started
// with --concurrency 1 on one nginx upstream (1 KB), loaded at the same time at RPS over 16
// connections each; CPU from /proc/<pid>/task/*/schedstat (ns); prints per-round ratios and medians.
// Usage (under flock /tmp/skein-bench.lock): node side-by-side.mjs <distA> <distB> [rounds] [seconds] [rps]
import { spawn } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { skeinBootstrap } from './bootstrap.mjs';
import { sideScriptSetup } from './nginx-upstream.mjs';
import { cpuNs, fixedRate } from './measure.mjs';
import { freePort, waitAnswers } from './ports.mjs';
const root = join(import.meta.dirname, '..', '..', '..');
const require = createRequire(join(root, 'package.json'));
const { Pool } = require('undici');
const [distA, distB, roundsArg = '8', secArg = '4', rpsArg = '1000'] = process.argv.slice(2);
const ROUNDS = Number(roundsArg),
  SEC = Number(secArg),
  RPS = Number(rpsArg),
  CONNS = 16;
// A failed run (an exception) still stops the proxies and nginx, and removes the work directory.
const { work, kids, up } = await sideScriptSetup('hcm-ab');
const boot = (px) => skeinBootstrap(px, up);
const node = process.execPath;
async function startProxy(name, dist) {
  const px = await freePort();
  writeFileSync(join(work, name + '.json'), JSON.stringify(boot(px)));
  const p = spawn(
    node,
    [join(dist, 'main.js'), '-c', join(work, name + '.json'), '--concurrency', '1', '--log-level', 'warning'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  kids.push(p);
  await waitAnswers(px, `${name} (${dist})`);
  return { name, px, pid: p.pid, pool: new Pool(`http://127.0.0.1:${px}`, { connections: CONNS }) };
}
/** `sec` seconds of the bench's fixed-rate client (measure.mjs) on `t`'s pool; the requests made. */
async function load(t, sec) {
  const r = await fixedRate(t.px, { rps: RPS, conns: CONNS, seconds: sec, pool: t.pool });
  if (r.errors) throw new Error(`${t.name}: ${r.errors} failed requests (first: ${r.firstError})`);
  return r.sent;
}
const A = await startProxy('A', distA),
  B = await startProxy('B', distB);
await Promise.all([load(A, 5), load(B, 5)]); // warm-up (tiering)
const ratios = [],
  as = [],
  bs = [];
for (let r = 0; r < ROUNDS; r++) {
  const a0 = cpuNs([A.pid]),
    b0 = cpuNs([B.pid]);
  const [na, nb] = await Promise.all([load(A, SEC), load(B, SEC)]);
  const a = (cpuNs([A.pid]) - a0) / 1e6 / na,
    b = (cpuNs([B.pid]) - b0) / 1e6 / nb; // ms CPU per request = s per 1000 req
  as.push(a);
  bs.push(b);
  ratios.push(a / b);
  console.log(`round ${r + 1}: A ${a.toFixed(4)} B ${b.toFixed(4)} s/1000 req, A/B ${(a / b).toFixed(3)}`);
}
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(
  `median A ${med(as).toFixed(4)} B ${med(bs).toFixed(4)} s/1000 req; median per-round A/B ${med(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
);
await A.pool.close();
await B.pool.close();
for (const k of kids) k.kill('SIGTERM');
rmSync(work, { recursive: true, force: true });

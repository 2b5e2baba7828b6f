// Where a proxy's added latency is: one target (a skein-proxy dist with --concurrency 1, or the node
// relay floor) in front of an nginx upstream at a fixed rate, its main thread's syscalls recorded
// with `perf trace` during the window, and per request the in-proxy legs (downstream read → upstream
// write, upstream read → downstream write), the gap after each write until the thread's next
// syscall (work after the write, or the thread preempted by the peer the write woke), and how many
// reads a wake-up serves before each one (requests queued behind others' processing).
// `pair=<dist dir>` runs the bench's mTLS pair instead (client side originating TLS to the server
// side, Istio's inbound/outbound shapes, certificates made here with openssl) and traces both.
// Usage (root, under flock /tmp/skein-bench.lock):
//   node latency-timeline.mjs <dist dir | relay | pair=<dist dir>> [seconds] [rps]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { skeinBootstrap } from './bootstrap.mjs';
import { makeCerts, tlsCommon } from './certs.mjs';
import { fixedRate } from './measure.mjs';
import { sideScriptSetup } from './nginx-upstream.mjs';
import { freePort, waitAnswers } from './ports.mjs';
import { istioInbound, istioOutbound } from './mtls.mjs';

const [target = 'relay', secArg = '3', rpsArg = '1000'] = process.argv.slice(2);
const SEC = Number(secArg);
const RPS = Number(rpsArg);
const CONNS = 16;
// A failed run (an exception) still stops the proxies and nginx, and removes the work directory.
const { work, kids, up } = await sideScriptSetup('skein-timeline');

const px = await freePort();
const skein = (dist, name, bootstrap) => {
  writeFileSync(join(work, name), JSON.stringify(bootstrap));
  const args = ['-c', join(work, name), '--concurrency', '1', '--log-level', 'warning'];
  return spawn(process.execPath, [join(dist, 'main.js'), ...args], { stdio: 'ignore' });
};
/** The client's and server's TLS contexts, with the bench's certificates (bench/certs.mjs). */
function pairTls() {
  const certs = makeCerts(work);
  return {
    client: tlsCommon(certs.client, certs.ca, 'server'),
    server: tlsCommon(certs.server, certs.ca, 'client'),
  };
}
let proxy;
const traced = [];
if (target === 'relay') {
  proxy = spawn(process.execPath, [join(import.meta.dirname, 'node-relay.mjs'), String(px), String(up)], {
    stdio: 'ignore',
  });
} else if (target.startsWith('pair=')) {
  const dist = target.slice('pair='.length);
  const tls = pairTls();
  const sp = await freePort();
  const server = skein(dist, 's.json', istioInbound(skeinBootstrap(sp, up, 0, { downstream: tls.server })));
  kids.push(server);
  traced.push(server.pid);
  proxy = skein(dist, 'c.json', istioOutbound(skeinBootstrap(px, sp, 0, { upstream: tls.client })));
} else proxy = skein(target, 'b.json', skeinBootstrap(px, up));
traced.unshift(proxy.pid);
kids.push(proxy);
await waitAnswers(px, target);
// Warm-up at saturation (V8's top tier), then at the fixed rate.
spawnSync('wrk', ['-t1', `-c${CONNS}`, '-d3s', '-H', 'Host: bench', `http://127.0.0.1:${px}/`]);
const pool = new Pool(`http://127.0.0.1:${px}`, { connections: CONNS, pipelining: 1 });

/** The bench's fixed-rate client (measure.mjs), on one pool for the whole run; the sorted latencies. */
async function load(sec) {
  const r = await fixedRate(px, { rps: RPS, conns: CONNS, seconds: sec, pool });
  if (r.errors) throw new Error(`${r.errors} failed requests (first: ${r.firstError})`);
  return r.lat;
}
await load(2);
const traceFile = join(work, 'trace.txt');
const perf = spawn(
  'perf',
  ['trace', '-e', 'read,write,writev,epoll_pwait,epoll_wait', '-p', traced.join(','), '-o', traceFile],
  { stdio: 'ignore' },
);
await new Promise((r) => setTimeout(r, 500));
const lat = await load(SEC);
perf.kill('SIGINT');
await new Promise((r) => perf.once('exit', r));
await pool.close();

// `perf trace` lines: "<ms> (<dur> ms): <comm>/<tid> <call>(<args>) = <ret>"; main threads only.
const byTid = new Map();
for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
  const m = /^\s*([\d.]+) \(\s*([\d.]+) ms\): MainThread\/(\d+) (\w+)\((.*?)\)\s+= (-?\d+)/.exec(line);
  if (!m) continue;
  const tid = Number(m[3]);
  if (!byTid.has(tid)) byTid.set(tid, []);
  byTid.get(tid).push({ t: +m[1] * 1000, d: +m[2] * 1000, call: m[4], args: m[5], ret: +m[6] });
}
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const row = (name, xs, unit = 'µs', f = 0) =>
  console.log(
    `${name.padEnd(44)} n ${String(xs.length).padStart(5)}  p50 ${q(xs, 0.5).toFixed(f).padStart(6)}  p90 ${q(xs, 0.9).toFixed(f).padStart(6)}  p99 ${q(xs, 0.99).toFixed(f).padStart(6)} ${unit}`,
  );
const isRead = (e) => e.call === 'read';
const isWrite = (e) => e.call === 'write' || e.call === 'writev';
const isWait = (e) => e.call.startsWith('epoll');
const blocking = (e) => isWait(e) && /timeout/.test(e.args); // a wait with no timeout argument polls
// Requests are < 600 bytes, the 1 KB responses more; 8-byte reads and writes are libuv's wake-ups.
const small = (e) => e.ret >= 20 && e.ret < 600;
const big = (e) => e.ret >= 600;

/** One thread's legs: a request read to its write onward, a response read to its write back. */
function report(name, ev) {
  const legA = [];
  const legC = [];
  const gapUp = [];
  const gapDown = [];
  const position = [];
  let req;
  let resp;
  let pos = 0;
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i];
    const next = ev[i + 1];
    if (blocking(e)) pos = 0; // a new wake-up
    if (isRead(e) && (small(e) || big(e))) position.push(++pos);
    if (isRead(e) && small(e)) req = e;
    else if (isRead(e) && big(e)) resp = e;
    else if (isWrite(e) && small(e) && req) {
      legA.push(e.t - req.t - req.d);
      if (next) gapUp.push(next.t - e.t - e.d);
      req = undefined;
    } else if (isWrite(e) && big(e) && resp) {
      legC.push(e.t - resp.t - resp.d);
      if (next) gapDown.push(next.t - e.t - e.d);
      resp = undefined;
    }
  }
  console.log(`-- ${name}`);
  row('A: request read → request write onward', legA);
  row('   gap after that write', gapUp);
  row('C: response read → response write back', legC);
  row('   gap after that write', gapDown);
  row(
    'request write duration',
    ev.filter((e) => isWrite(e) && small(e)).map((e) => e.d),
  );
  row(
    'response write duration',
    ev.filter((e) => isWrite(e) && big(e)).map((e) => e.d),
  );
  const dur = (ev.at(-1).t - ev[0].t) / 1e6;
  const per = (f) => (ev.filter(f).length / dur / RPS).toFixed(2);
  console.log(
    `per request: reads ${per(isRead)}, writes ${per(isWrite)}, epoll waits ${per(isWait)} (blocking ${per(blocking)})`,
  );
  const share = (k) =>
    ((100 * position.filter((p) => (k < 4 ? p === k : p >= k)).length) / position.length).toFixed(0);
  console.log(
    `reads by position in their wake-up: 1st ${share(1)}%, 2nd ${share(2)}%, 3rd ${share(3)}%, 4th or later ${share(4)}%`,
  );
}

console.log(
  `\n${target}: ${RPS} rps over ${CONNS} connections, ${SEC} s traced (perf trace inflates each syscall)`,
);
row('client latency', lat, 'ms', 3);
const names = ['proxy (client side)', 'server side'];
traced.forEach((pid, i) => {
  const ev = byTid.get(pid);
  if (ev?.length) report(traced.length > 1 ? names[i] : target, ev);
});
process.exit(0);

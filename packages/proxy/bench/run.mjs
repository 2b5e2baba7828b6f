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
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import {
  cpuNs,
  fixedRate,
  median,
  medRange,
  percentiles,
  perRound,
  pidsOf,
  pin,
  saturation,
} from './measure.mjs';
import { measureIdleRss, printIdleRss } from './idle-rss.mjs';
import { mtlsTargets, printMtls } from './mtls.mjs';
import { skeinBootstrap } from './bootstrap.mjs';

const root = join(import.meta.dirname, '..', '..', '..');
const here = import.meta.dirname;
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
// BENCH_RESTART=0 (one process per target for the whole run).
const AA = process.env.BENCH_AA === '1';
if (AA) process.env.BENCH_ROUTE = 'plain';
const SCHEDULE = process.env.BENCH_SCHEDULE ?? 'split';
const SETTLE = Number(process.env.BENCH_SETTLE ?? 1);
const [PIN_TARGET, PIN_OTHER] = (process.env.BENCH_PIN ?? '').split(':');
const TRACE_GC = process.env.BENCH_TRACE_GC === '1';
const SLICES = Math.max(1, Number(process.env.BENCH_SLICES ?? 3));
// Every target is restarted (and warmed up again) before each fixed-rate round, so the rounds sample
// fresh processes: one Node process's CPU per request differs from another's of the same build by
// up to ~25% (A/A: 1.08x / 1.26x with one process per target, 1.03x / 0.99x restarted; README).
// BENCH_RESTART=0 keeps one process per target for the whole run.
const RESTART = process.env.BENCH_RESTART !== '0';
const work = mkdtempSync(join(tmpdir(), 'skein-bench-'));
const children = [];

function ensureDebian(pkgs) {
  const missing = pkgs
    .filter(([bin]) => spawnSync('which', [bin], { stdio: 'ignore' }).status !== 0)
    .map(([, p]) => p);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(' ')} (run as root to install)`);
  console.log(`installing ${missing.join(' ')} from Debian...`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

async function waitPort(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never opened`);
}

function start(name, cmd, args, env = {}) {
  // BENCH_TRACE_GC=1: Node targets run with --trace-gc (bin/skein-proxy is node + dist/main.js
  // without flags; NODE_OPTIONS cannot carry it); their collections are counted per window.
  const trace = TRACE_GC && (cmd === process.execPath || cmd.endsWith('skein-proxy'));
  if (trace && cmd !== process.execPath) {
    args = [join(root, 'packages/proxy/dist/main.js'), ...args];
    cmd = process.execPath;
  }
  // The trace goes to a file: a pipe would block the target while spawnSync(wrk) holds our loop.
  const gcLog = trace ? join(work, `gc-${name}-${children.length}.log`) : undefined;
  const p = spawn(cmd, trace ? ['--trace-gc', ...args] : args, {
    stdio: ['ignore', gcLog ? openSync(gcLog, 'w') : 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  if (gcLog) {
    p.gc = () => {
      const text = readFileSync(gcLog, 'utf8');
      const count = (re) => (text.match(re) ?? []).length;
      return {
        scavenge: count(/Scavenge|Minor Mark/g),
        major: count(/Mark-Compact|Mark-sweep/gi),
        reduce: count(/reduce|idle/gi),
      };
    };
  }
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  p.on(
    'exit',
    (code) => code && code !== 0 && !p.stopping && console.error(`${name} exited ${code}: ${err}`),
  );
  children.push(p);
  return p;
}

/** True while a process exists and is not a zombie. */
function alive(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

function stop(p) {
  p.stopping = true;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {}
}

/** CPU ticks (utime + stime, 1/CLK_TCK s) of a target: the old measure, kept beside schedstat's. */
function cpuTicks(pids) {
  let total = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      total += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return total;
}

function rssMb(proc) {
  let kb = 0;
  for (const p of pidsOf(proc)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {}
  }
  return kb / 1024;
}

/**
 * A CA and two leaf certificates (client and server SPIFFE identities) made with openssl. The
 * server's also carries DNS:server.bench, the name the client-side nginx verifies (nginx checks
 * DNS names, skein-proxy the SPIFFE URI).
 */
function makeCerts() {
  const o = (...a) => execFileSync('openssl', a, { cwd: work, stdio: 'pipe' });
  o(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=bench-ca',
    '-days',
    '1',
  );
  const leaf = (name) => {
    writeFileSync(
      join(work, `${name}.ext`),
      `subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/${name}${name === 'server' ? ',DNS:server.bench' : ''}\n`,
    );
    o(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      '/O=bench',
    );
    o(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
    return {
      cert: readFileSync(join(work, `${name}.crt`), 'utf8'),
      key: readFileSync(join(work, `${name}.key`), 'utf8'),
    };
  };
  // ca.crt and <name>.crt/.key stay in the work directory for nginx.
  return { ca: readFileSync(join(work, 'ca.crt'), 'utf8'), client: leaf('client'), server: leaf('server') };
}

function tlsCommon(leaf, ca, peer) {
  return {
    tls_certificates: [
      { certificate_chain: { inline_string: leaf.cert }, private_key: { inline_string: leaf.key } },
    ],
    validation_context: {
      trusted_ca: { inline_string: ca },
      match_typed_subject_alt_names: [
        { san_type: 'URI', matcher: { exact: `spiffe://cluster.local/ns/bench/sa/${peer}` } },
      ],
    },
  };
}

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
  const upstreamPort = await freePort();
  const upConf = join(work, 'upstream.conf');
  writeFileSync(
    upConf,
    `daemon off; worker_processes 1; pid ${work}/up.pid; error_log ${work}/up.err; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${upstreamPort}; location / { return 200 '${'x'.repeat(1024)}'; } } }\n`,
  );
  const upstream = start('upstream', 'nginx', ['-c', upConf, '-p', work]);
  await waitPort(upstreamPort);
  pin(pidsOf(upstream), PIN_OTHER);

  const targets = [];
  const add = async (name, launch) => {
    const port = await freePort();
    targets.push({ name, port, launch: () => launch(port) });
  };
  await add('skein-proxy', (port) => {
    const f = join(work, 'skein.json');
    writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort)));
    return start('skein-proxy', join(root, 'bin/skein-proxy'), [
      '-c',
      f,
      '--concurrency',
      '1',
      '--log-level',
      'warning',
    ]);
  });
  await add('skein plain route', (port) => {
    const f = join(work, 'skein-plain.json');
    writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort, 0, undefined, 'plain')));
    return start('skein-plain', join(root, 'bin/skein-proxy'), [
      '-c',
      f,
      '--concurrency',
      '1',
      '--log-level',
      'warning',
    ]);
  });
  await add('skein-proxy c2', (port) => {
    const f = join(work, 'skein-c2.json');
    writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort)));
    return start('skein-proxy-c2', join(root, 'bin/skein-proxy'), [
      '-c',
      f,
      '--concurrency',
      '2',
      '--log-level',
      'warning',
    ]);
  });
  await add('skein node:http', (port) => {
    const f = join(work, 'skein-legacy.json');
    writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort)));
    return start(
      'skein-legacy',
      join(root, 'bin/skein-proxy'),
      ['-c', f, '--concurrency', '1', '--log-level', 'warning'],
      { SKEIN_PROXY_HTTP1: 'legacy' },
    );
  });
  if (process.env.BENCH_BASELINE) {
    const main = join(process.env.BENCH_BASELINE, 'main.js');
    await add('skein baseline', (port) => {
      const f = join(work, 'skein-baseline.json');
      writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort)));
      return start('skein-baseline', node, [main, '-c', f, '--concurrency', '1', '--log-level', 'warning']);
    });
    await add('baseline plain', (port) => {
      const f = join(work, 'skein-baseline-plain.json');
      writeFileSync(f, JSON.stringify(skeinBootstrap(port, upstreamPort, 0, undefined, 'plain')));
      return start('baseline-plain', node, [main, '-c', f, '--concurrency', '1', '--log-level', 'warning']);
    });
  }
  const certs = spawnSync('which', ['openssl'], { stdio: 'ignore' }).status === 0 ? makeCerts() : undefined;
  if (certs) {
    const skeinArgs = (name, args) => start(name, join(root, 'bin/skein-proxy'), args);
    const baselineMain = process.env.BENCH_BASELINE ? join(process.env.BENCH_BASELINE, 'main.js') : undefined;
    const pairs = mtlsTargets({
      work,
      certs,
      upstreamPort,
      freePort,
      waitPort,
      start,
      skeinBootstrap,
      tlsCommon,
      skein: skeinArgs,
      baseline: baselineMain ? (name, args) => start(name, node, [baselineMain, ...args]) : undefined,
    });
    for (const [name, launch] of pairs) await add(name, launch);
  }
  await add('nginx', (port) => {
    const conf = join(work, `nginx-${port}.conf`);
    writeFileSync(
      conf,
      `daemon off; worker_processes 1; pid ${work}/ngx-${port}.pid; error_log ${work}/ngx.err; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; }
server { listen 127.0.0.1:${port}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`,
    );
    return start('nginx', 'nginx', ['-c', conf, '-p', work]);
  });
  await add('haproxy', (port) => {
    const conf = join(work, `haproxy-${port}.cfg`);
    writeFileSync(
      conf,
      `global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  http-reuse always\nfrontend f\n  bind 127.0.0.1:${port}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:${upstreamPort}\n`,
    );
    return start('haproxy', 'haproxy', ['-f', conf, '-db']);
  });
  await add('http-proxy', (port) =>
    start('http-proxy', node, [join(here, 'http-proxy.mjs'), String(port), String(upstreamPort)]),
  );
  await add('undici-minimal', (port) =>
    start('undici', node, [join(here, 'undici-proxy.mjs'), String(port), String(upstreamPort)]),
  );
  await add('node relay floor', (port) =>
    start('relay', node, [join(here, 'node-relay.mjs'), String(port), String(upstreamPort)]),
  );

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
      { p50: [], p90: [], p99: [], cpu: [], ticks: [], gc: [], rss: [], sat: [] },
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

  const load = { rps: RPS, conns: CONNS, seconds: SECONDS };
  // The order rotates every round, so no target keeps a slot (e.g. the one after direct's).
  const order = (round) => {
    const shift = (round - 1) % targets.length;
    return [...targets.slice(shift), ...targets.slice(0, shift)];
  };
  // One slice of a target's fixed-rate window: CPU (schedstat ns and ticks), GCs, latencies.
  const slice = async (t, seconds) => {
    let before = 0;
    let ticks = 0;
    let gc0;
    const r = await fixedRate(t.port, {
      ...load,
      seconds,
      settle: SETTLE / SLICES,
      mark: () => {
        gc0 = t.proc.gc?.();
        ticks = cpuTicks(t.pids);
        before = cpuNs(t.pids);
      },
    });
    const ns = cpuNs(t.pids) - before;
    const gc1 = t.proc.gc?.();
    const gc = gc1 ? Object.fromEntries(Object.entries(gc1).map(([k, v]) => [k, v - gc0[k]])) : undefined;
    if (r.errors) console.log(`  ${t.name}: ${r.errors} errors (first: ${r.firstError})`);
    return { ns, ticks: cpuTicks(t.pids) - ticks, n: r.n, lat: r.lat, gc };
  };
  /**
   * One round of fixed-rate windows: each target's SECONDS split into SLICES slices, taken in turn
   * (direct, then the targets, rotating), so that every target's window spans the same stretch of
   * the machine's time and a burst of someone else's load falls on all of them alike.
   */
  const fixedRound = async (round, members = targets) => {
    const acc = new Map([...members, direct].map((t) => [t, { ns: 0, ticks: 0, n: 0, lat: [], gc: {} }]));
    for (let k = 0; k < SLICES; k++) {
      const turn = order((round - 1) * SLICES + k + 1).filter((t) => members.includes(t));
      for (const t of [direct, ...turn]) {
        const r = await slice(t, SECONDS / SLICES);
        const a = acc.get(t);
        a.ns += r.ns;
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
      }
      await fixedRound(round);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`saturation round ${round}/${ROUNDS}`);
      results.direct.sat.push(sat(upstreamPort));
      for (const t of order(round)) results[t.name].sat.push(sat(t.port));
    }
  }
  printRounds(results, targets);

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

  const m = (name, k) => (results[name] ? median(results[name][k]) : NaN);
  const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log(
    `\nskein-proxy benchmark: ${ROUNDS} rounds (${SCHEDULE}; order rotating; ${SETTLE}s lead-in${PIN_TARGET ? `; pinned ${process.env.BENCH_PIN}` : ''}), ${SECONDS}s each, ${RPS} rps over ${CONNS} connections, 1 KB responses, medians`,
  );
  console.log(
    `direct: p50 ${fmt(m('direct', 'p50'))} ms, p90 ${fmt(m('direct', 'p90'))} ms, p99 ${fmt(m('direct', 'p99'))} ms, saturation ${fmt(m('direct', 'sat'), 0)} rps\n`,
  );
  console.log(
    'proxy              added p50  added p90  added p99   CPU s/1000 req   RSS MB   saturation rps',
  );
  for (const t of targets) {
    console.log(
      `${t.name.padEnd(18)} ${fmt(m(t.name, 'p50')).padStart(9)}  ${fmt(m(t.name, 'p90')).padStart(9)}  ${fmt(m(t.name, 'p99')).padStart(9)}   ${fmt(m(t.name, 'cpu'), 3).padStart(14)}   ${fmt(m(t.name, 'rss'), 0).padStart(6)}   ${fmt(m(t.name, 'sat'), 0).padStart(14)}`,
    );
  }
  const s = (n) => m(n, 'sat');
  console.log('\ntargets (ratios in this run):');
  console.log(
    `  added p90 vs nginx:                ${fmt(m('skein-proxy', 'p90'))} ms vs ${fmt(m('nginx', 'p90'))} ms  (target: ≤ nginx within noise)`,
  );
  // "Within noise": the per-round gap beside nginx's own spread across the same rounds.
  const rounds = (name, k) => results[name]?.[k] ?? [];
  const spread = (xs) => (xs.length ? Math.max(...xs) - Math.min(...xs) : NaN);
  const perRoundGap = (a, b, k) => rounds(a, k).map((x, i) => x - (rounds(b, k)[i] ?? NaN));
  const range = (xs) => (xs.length ? `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}` : 'n/a');
  const gapLine = (a, b) => {
    const gap = perRoundGap(a, b, 'p90');
    console.log(
      `    per round, added p90 ms: ${a} ${rounds(a, 'p90')
        .map((x) => fmt(x))
        .join(' ')} | ${b} ${rounds(b, 'p90')
        .map((x) => fmt(x))
        .join(' ')}`,
    );
    console.log(
      `    ${a} − ${b}: median ${fmt(median(gap))} ms (${range(gap)}); ${b}'s own spread over the rounds ${fmt(spread(rounds(b, 'p90')))} ms`,
    );
  };
  if (results['nginx']) gapLine('skein-proxy', 'nginx');
  if (results['skein mTLS pair'] && results['nginx mTLS pair']) gapLine('skein mTLS pair', 'nginx mTLS pair');
  // Ratios are medians of per-round ratios (each round's target over nginx's in the same round), with min–max.
  const pr = (a, b, k) => medRange(perRound(rounds(a, k), rounds(b, k)));
  console.log(`  saturation / nginx:                ${pr('skein-proxy', 'nginx', 'sat')}  (target ≥ 0.5)`);
  console.log(
    `  saturation / http-proxy:           ${pr('skein-proxy', 'http-proxy', 'sat')}  (target ≥ 1.5)`,
  );
  console.log(
    `  saturation / minimal undici proxy: ${pr('skein-proxy', 'undici-minimal', 'sat')}  (target ≥ 0.9)`,
  );
  console.log(`  CPU per 1000 req / nginx:          ${pr('skein-proxy', 'nginx', 'cpu')}  (target ≤ 2)`);
  if (results['skein plain route']) {
    const aa = AA ? 'A/A (both rows the plain route): ' : 'Istio route / plain route: ';
    console.log(
      `  ${aa}CPU ${pr('skein-proxy', 'skein plain route', 'cpu')}, [ticks ${pr('skein-proxy', 'skein plain route', 'ticks')}], saturation ${pr('skein-proxy', 'skein plain route', 'sat')}`,
    );
    gapLine('skein-proxy', 'skein plain route');
  }
  if (results['node relay floor']) {
    console.log(
      `  CPU per 1000 req, node relay floor / nginx: ${pr('node relay floor', 'nginx', 'cpu')}; skein-proxy / floor: ${pr('skein-proxy', 'node relay floor', 'cpu')}`,
    );
  }
  if (results['skein-proxy c2']) {
    console.log(
      `  --concurrency 2 (default):         CPU per 1000 req / nginx ${pr('skein-proxy c2', 'nginx', 'cpu')}, saturation (2 threads) / nginx (1 worker) ${pr('skein-proxy c2', 'nginx', 'sat')}`,
    );
  }
  if (results['skein node:http']) {
    console.log(
      `  vs node:http + undici path:        saturation ${fmt(s('skein-proxy') / s('skein node:http'))}x, CPU per request ${fmt(m('skein-proxy', 'cpu') / m('skein node:http', 'cpu'))}x`,
    );
  }
  if (results['skein baseline']) {
    console.log(
      `  vs baseline build:                 saturation ${fmt(s('skein-proxy') / s('skein baseline'))}x, CPU per request ${fmt(m('skein-proxy', 'cpu') / m('skein baseline', 'cpu'))}x`,
    );
  }
  printMtls(m, s, fmt, pr);
  printIdleRss(idle, idleRounds);
  console.log(
    '\nIstio published figures, for reference: sidecar with 2 workers 0.20 vCPU and 60 MB at 1000 rps (1.24);',
  );
  console.log(
    'client+server sidecars add 0.228 ms p90 / 0.298 ms p99 (1.20, mTLS); Linkerd2 proxy 17.8-26 MB, < 1 ms median added.',
  );
}

/** Per round: each target's CPU (s/1000 req, schedstat and ticks) and its ratio to nginx's. */
function printRounds(results, targets) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const ngx = results['nginx']?.cpu ?? [];
  console.log(
    '\nper round, CPU s/1000 req (schedstat) [ticks] {GCs in the window: s=scavenges m=major r=reduce/idle}:',
  );
  for (const t of targets) {
    const r = results[t.name];
    const cells = r.cpu.map((c, i) => `${f(c)} [${f(r.ticks[i])}]${r.gc[i] ? ` {${r.gc[i]}}` : ''}`);
    const ratio = t.name === 'nginx' ? '' : `  / nginx per round: ${medRange(perRound(r.cpu, ngx))}`;
    console.log(`  ${t.name.padEnd(18)} ${cells.join('  ')}${ratio}`);
  }
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

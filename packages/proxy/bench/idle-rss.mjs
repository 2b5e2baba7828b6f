// The idle-memory part of `npm run bench:proxy`: RSS of skein-proxy at rest with 100 clusters,
// against a bare Node 24 process, in interleaved rounds (medians). Measured both with one thread
// (`--concurrency 1`, the target's figure) and with the default two (`--concurrency 2`, like a
// sidecar's Envoy: a second V8 isolate with its own copy of every module), and for a baseline build
// when given. RSS is split into anonymous memory (heaps, malloc) and file pages (the node binary's
// code and read-only data that the process touched).
import { readFileSync } from 'node:fs';

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

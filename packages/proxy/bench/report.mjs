// The printed report of `npm run bench:proxy`: the per-round CPU table, then the summary (medians
// per target, the ratios the targets are judged by, the mTLS pairs, idle RSS) and Istio's published
// figures for reference. `results[name]` holds each target's per-round lists (p50, p90, p99: added
// latency in ms, direct's own for `direct`; cpu: s/1000 req from schedstat; ticks; gc; rss; sat).
import { median, medRange, perRound } from './measure.mjs';
import { printIdleRss } from './idle-rss.mjs';
import { printMtls } from './mtls.mjs';

/**
 * Per round: each target's CPU (s/1000 req, schedstat and ticks) and its ratio to nginx's, the
 * seconds of steady-state warm-up each Node target took (`warmed`: one map per fixed-rate round,
 * from run.mjs's warmToSteady; empty with BENCH_WARM=burst), and V8's helper threads' share.
 */
export function printRounds(results, targets, warmed = []) {
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
  if (warmed.some((m) => m.size > 0)) {
    console.log(
      '  steady-state warm-up before each round, seconds (helper threads under 5% of the CPU for 2 s):',
    );
    for (const t of targets) {
      if (warmed.some((m) => m.has(t.name)))
        console.log(
          `  ${t.name.padEnd(18)} ${warmed.map((m) => String(m.get(t.name) ?? '-').padStart(5)).join('  ')}`,
        );
    }
  }
  console.log("  V8's helper threads' share of each round's CPU (its background compilers and GC):");
  for (const t of targets) {
    const shares = results[t.name].helpers;
    if (shares?.some((x) => x > 0))
      console.log(
        `  ${t.name.padEnd(18)} ${shares.map((x) => `${(100 * x).toFixed(0)}%`.padStart(5)).join('  ')}`,
      );
  }
}

/**
 * The summary. `run`: the method as run ({ rounds, schedule, settle, pin, seconds, rps, conns, aa });
 * `idle`, `idleRounds`: measureIdleRss's medians and its round count.
 */
export function printSummary({ results, targets, run, idle, idleRounds }) {
  const m = (name, k) => (results[name] ? median(results[name][k]) : NaN);
  const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  console.log(
    `\nskein-proxy benchmark: ${run.rounds} rounds (${run.schedule}; order rotating; ${run.settle}s lead-in${run.pin ? `; pinned ${run.pin}` : ''}), ${run.seconds}s each, ${run.rps} rps over ${run.conns} connections, 1 KB responses, medians`,
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
    const aa = run.aa ? 'A/A (both rows the plain route): ' : 'Istio route / plain route: ';
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
  if (results['node http/1 floor']) {
    console.log(
      `  CPU per 1000 req, node http/1 floor / nginx: ${pr('node http/1 floor', 'nginx', 'cpu')}; skein-proxy / http/1 floor: ${pr('skein-proxy', 'node http/1 floor', 'cpu')}`,
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

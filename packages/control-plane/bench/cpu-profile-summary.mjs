// Summarises a V8 .cpuprofile (skeind run with SKEIND_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=D",
// the floor with FLOOR_NODE_OPTIONS): self and inclusive time per function over the last
// `--last-seconds` of the profile (the bench's interleaved rounds, when the server is otherwise
// idle), idle and GC shown apart.
// `--bursts N` instead sums the last N bursts of work (busy samples with less than `--gap-ms`, 150,
// of idle between them; bursts busy for less than `--min-busy` ms, 5, are left out) before the
// last `--skip-last` K (1: the clients' teardown; see the bursts printed), and prints
// each burst and the figures per burst: with the bench's rounds, one burst is one change (the
// server is idle in the quiet gap between changes), so the figures are CPU ms per change.
// Usage: node cpu-profile-summary.mjs FILE.cpuprofile [--last-seconds 60 | --bursts 12
//        [--skip-last 1] [--gap-ms 150] [--min-busy 5]] [--top 40]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'last-seconds': { type: 'string', default: '0' },
    bursts: { type: 'string', default: '0' },
    'skip-last': { type: 'string', default: '1' },
    'gap-ms': { type: 'string', default: '150' },
    'min-busy': { type: 'string', default: '5' },
    top: { type: 'string', default: '40' },
  },
});
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** Sample i's time (µs, the profile's clock) and its node. */
const times = [];
{
  let at = profile.startTime;
  profile.samples.forEach((_, i) => times.push((at += profile.timeDeltas[i] ?? 0)));
}
const isIdle = (i) => nodes.get(profile.samples[i]).callFrame.functionName === '(idle)';
/** The sample indices [first, last] of the bursts to sum, or one range from `--last-seconds`. */
let ranges;
const BURSTS = Number(values.bursts);
if (BURSTS > 0) {
  const gap = Number(values['gap-ms']) * 1000;
  const bursts = [];
  let open;
  for (let i = 0; i < times.length; i++) {
    if (isIdle(i)) continue;
    if (open && times[i] - times[open[1]] < gap) open[1] = i;
    else bursts.push((open = [i, i]));
  }
  const busyOf = ([a, b]) => {
    let busy = 0;
    for (let i = a; i <= b; i++) if (!isIdle(i)) busy += (profile.timeDeltas[i + 1] ?? 0) / 1000;
    return busy;
  };
  // A burst of less than `--min-busy` ms (a timer) is no change.
  const changes = bursts.filter((r) => busyOf(r) >= Number(values['min-busy']));
  const skip = Number(values['skip-last']);
  ranges = changes.slice(Math.max(0, changes.length - skip - BURSTS), changes.length - skip);
  for (const [a, b] of ranges) {
    const busy = busyOf([a, b]);
    console.log(
      `burst at ${((times[a] - profile.startTime) / 1e6).toFixed(2)} s: ${((times[b] - times[a]) / 1000).toFixed(1)} ms long, busy ${busy.toFixed(1)} ms`,
    );
  }
} else {
  const from =
    values['last-seconds'] === '0' ? -Infinity : profile.endTime - Number(values['last-seconds']) * 1e6;
  const first = times.findIndex((t) => t >= from);
  ranges = first < 0 ? [] : [[first, times.length - 1]];
}
const per = BURSTS > 0 ? Math.max(1, ranges.length) : 1;
const self = new Map();
const incl = new Map();
let total = 0;
const label = (n) => {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^.*\/(node_modules|packages)\//, '$1/') : '';
  return `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
};
for (const [first, last] of ranges)
  for (let i = first; i <= last; i++) {
    const id = profile.samples[i];
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000 / per;
    total += dt;
    const n = nodes.get(id);
    self.set(label(n), (self.get(label(n)) ?? 0) + dt);
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const l = label(nodes.get(x));
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + dt);
    }
  }
const idle = [...self].filter(([l]) => l.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
console.log(
  `${BURSTS > 0 ? `per burst (${ranges.length}): ` : ''}window ${total.toFixed(0)} ms, idle ${idle.toFixed(0)} ms, busy ${(total - idle).toFixed(0)} ms`,
);
const top = Number(values.top);
const show = (title, m) => {
  console.log(`\n${title}`);
  for (const [l, v] of [...m]
    .filter(([l]) => !l.startsWith('(idle)') && !l.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`${v.toFixed(1).padStart(9)} ms  ${l}`);
};
show('self time', self);
show('inclusive time', incl);

// Summarises a V8 .cpuprofile (skeind run with SKEIND_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=D"):
// self and inclusive time per function over the last `--last-seconds` of the profile (the bench's
// interleaved rounds, when skeind is otherwise idle), idle and GC shown apart.
// Usage: node cpu-profile-summary.mjs FILE.cpuprofile [--last-seconds 60] [--top 40]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'last-seconds': { type: 'string', default: '0' }, top: { type: 'string', default: '40' } },
});
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const from =
  values['last-seconds'] === '0' ? -Infinity : profile.endTime - Number(values['last-seconds']) * 1e6;
const self = new Map();
const incl = new Map();
let t = profile.startTime;
let total = 0;
const label = (n) => {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^.*\/(node_modules|packages)\//, '$1/') : '';
  return `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
};
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0;
  if (t < from) return;
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
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
});
const idle = [...self].filter(([l]) => l.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
console.log(
  `window ${total.toFixed(0)} ms, idle ${idle.toFixed(0)} ms, busy ${(total - idle).toFixed(0)} ms`,
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

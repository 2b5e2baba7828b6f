// Summarises a sampling heap profile (bench/heap-sample.mjs): bytes allocated per function, self
// and inclusive, divided by `--per N` (the number of changes the sampling covered), and with
// `--under NAME` the allocation tree below every call of function NAME, to `--depth` levels.
// Usage: node heap-profile-summary.mjs FILE.heapprofile [--per 10] [--top 40] [--under push --depth 4]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    per: { type: 'string', default: '1' },
    top: { type: 'string', default: '40' },
    under: { type: 'string' },
    depth: { type: 'string', default: '3' },
  },
});
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const per = Number(values.per);
const top = Number(values.top);
const mb = (bytes) => (bytes / per / 1e6).toFixed(2).padStart(8);
const label = (f) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*packages\//, '')}:${f.lineNumber + 1}`;

/** Bytes of a node and everything below it. */
const totals = new Map();
function total(n) {
  let sum = n.selfSize;
  for (const c of n.children) sum += total(c);
  totals.set(n, sum);
  return sum;
}
const all = total(profile.head);

if (values.under) {
  // One merged tree of every outermost call of the function.
  const merged = { size: 0, kids: new Map() };
  const add = (into, n, depth) => {
    into.size += totals.get(n);
    if (depth === 0) return;
    for (const c of n.children) {
      const k = label(c.callFrame);
      if (!into.kids.has(k)) into.kids.set(k, { size: 0, kids: new Map() });
      add(into.kids.get(k), c, depth - 1);
    }
  };
  const find = (n) => {
    if (n.callFrame.functionName === values.under) add(merged, n, Number(values.depth));
    else for (const c of n.children) find(c);
  };
  find(profile.head);
  const show = (m, name, indent) => {
    console.log(`${mb(m.size)} ${' '.repeat(indent)}${name}`);
    for (const [k, v] of [...m.kids].sort((a, b) => b[1].size - a[1].size))
      if (v.size / per >= 20_000) show(v, k, indent + 2);
  };
  show(merged, values.under, 0);
} else {
  const self = new Map();
  const inclusive = new Map();
  const walk = (n, stack) => {
    const k = label(n.callFrame);
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    // A recursive call counts once, at its outermost frame.
    const outermost = !stack.has(k);
    if (outermost) {
      inclusive.set(k, (inclusive.get(k) ?? 0) + totals.get(n));
      stack.add(k);
    }
    for (const c of n.children) walk(c, stack);
    if (outermost) stack.delete(k);
  };
  walk(profile.head, new Set());
  console.log(`${mb(all)} MB allocated per unit (${per} units)`);
  console.log('self:');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(v)} ${k}`);
  console.log('inclusive:');
  for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(v)} ${k}`);
}

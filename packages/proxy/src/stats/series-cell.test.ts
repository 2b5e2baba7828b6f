// Series cells update prom-client's own entry in place: the exposition is what prom-client's public
// API gives for the same values, and a reset or a new metric object is followed, not written past.
import { describe, expect, it } from 'vitest';
import { Counter, Histogram, Registry } from 'prom-client';
import { CounterCell, HistogramCell } from './series-cell.js';

const labels = { b: 'x', a: 'y,z' };

function pair(): { direct: Registry; api: Registry; dc: Counter; ac: Counter; dh: Histogram; ah: Histogram } {
  const direct = new Registry();
  const api = new Registry();
  const o = { labelNames: ['a', 'b', 'c'] };
  const buckets = [0.5, 1, 5, 100];
  return {
    direct,
    api,
    dc: new Counter({ name: 'c_total', help: 'c', ...o, registers: [direct] }),
    ac: new Counter({ name: 'c_total', help: 'c', ...o, registers: [api] }),
    dh: new Histogram({ name: 'h', help: 'h', ...o, buckets, registers: [direct] }),
    ah: new Histogram({ name: 'h', help: 'h', ...o, buckets, registers: [api] }),
  };
}

describe('series cells', () => {
  it('write to the entry directly and expose what the public API would', async () => {
    const { direct, api, dc, ac, dh, ah } = pair();
    const c = new CounterCell(labels);
    const h = new HistogramCell(labels);
    for (const v of [0, 0.5, 0.7, 3, 1000, 5, 2.25, 100]) {
      c.inc(dc, v);
      ac.inc(labels, v);
      h.observe(dh, v);
      ah.observe(labels, v);
    }
    expect(c.direct && h.direct).toBe(true);
    expect(await direct.metrics()).toBe(await api.metrics());
  });

  it('follow a reset and a replaced metric instead of updating a stale entry', async () => {
    const { direct, dc, dh } = pair();
    const c = new CounterCell(labels);
    const h = new HistogramCell(labels);
    c.inc(dc, 1);
    c.inc(dc, 1);
    h.observe(dh, 1);
    h.observe(dh, 1);
    direct.resetMetrics();
    c.inc(dc, 1);
    h.observe(dh, 2);
    const text = await direct.metrics();
    expect(text).toContain('c_total{b="x",a="y,z"} 1\n');
    expect(text).toContain('h_count{b="x",a="y,z"} 1\n');
    expect(text).toContain('h_sum{b="x",a="y,z"} 2\n');
    const other = new Counter({ name: 'd_total', help: 'd', labelNames: ['a', 'b'], registers: [direct] });
    c.inc(other, 4);
    c.inc(other, 4);
    expect(await direct.getSingleMetricAsString('d_total')).toContain('d_total{b="x",a="y,z"} 8');
  });

  it('leave invalid values to prom-client (which rejects them)', () => {
    const { dc, dh } = pair();
    const c = new CounterCell(labels);
    const h = new HistogramCell(labels);
    c.inc(dc, 1);
    h.observe(dh, 1);
    expect(() => c.inc(dc, -1)).toThrow();
    expect(() => h.observe(dh, Number.NaN)).toThrow();
  });
});

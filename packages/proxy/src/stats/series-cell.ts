// One series of a prom-client counter or histogram, held directly: prom-client hashes the ~25 labels
// of a series on every inc/observe (a long string built and looked up per call, four times per
// request), so once a series exists its value entry is kept and updated in place exactly as
// prom-client would. The entry is re-resolved whenever the metric or its value map is replaced
// (reset, a family recreated with more labels); the public API is used when the entry cannot be
// found (so a prom-client whose internals differ still counts correctly, only slower).
import type { Counter, Histogram } from 'prom-client';

interface CounterEntry {
  value: number;
}
interface HistogramEntry {
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
}
/** The prom-client internals this relies on (15.x): the value map and the sorted label names. */
interface Internals {
  hashMap?: Record<string, unknown>;
  sortedLabelNames?: readonly string[];
  upperBounds?: readonly number[];
}

/** prom-client's key of a series in its value map (`name:value,` per label, in sorted name order). */
function seriesHash(labels: Readonly<Record<string, string>>, sortedNames: readonly string[]): string {
  let hash = '';
  for (const k of sortedNames) {
    const v = labels[k];
    if (v !== undefined) hash += `${k}:${v},`;
  }
  return hash;
}

abstract class Cell<M extends object, E extends object> {
  private metric: M | undefined;
  private map: Record<string, unknown> | undefined;
  protected entry: E | undefined;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  /** Whether the last update went straight to prom-client's entry for this series. */
  get direct(): boolean {
    return this.entry !== undefined && this.metric !== undefined;
  }

  /** The entry, valid for `metric` now; undefined until the series exists or if it cannot be found. */
  protected current(metric: M): E | undefined {
    const map = (metric as Internals).hashMap;
    if (metric === this.metric && map === this.map) return this.entry;
    const names = (metric as Internals).sortedLabelNames;
    const found = map && names ? map[seriesHash(this.labels, names)] : undefined;
    if (!found) return undefined;
    this.metric = metric;
    this.map = map;
    this.entry = found as E;
    return this.entry;
  }
}

export class CounterCell extends Cell<Counter<string>, CounterEntry> {
  inc(metric: Counter<string>, value: number): void {
    const e = this.current(metric);
    if (e && Number.isFinite(value) && value >= 0) e.value += value;
    else metric.inc(this.labels, value);
  }
}

export class HistogramCell extends Cell<Histogram<string>, HistogramEntry> {
  private keys: string[] = [];
  private bounds: readonly number[] | undefined;

  observe(metric: Histogram<string>, value: number): void {
    const e = this.current(metric);
    const bounds = (metric as Internals).upperBounds;
    if (!e || !bounds || !Number.isFinite(value)) {
      metric.observe(this.labels, value);
      return;
    }
    if (bounds !== this.bounds) {
      this.bounds = bounds;
      this.keys = bounds.map(String);
    }
    e.sum += value;
    e.count += 1;
    for (let i = 0; i < bounds.length; i++)
      if (value <= (bounds[i] as number)) {
        // Every bound has its bucket (prom-client makes them from the bounds).
        const k = this.keys[i] as string;
        e.bucketValues[k] = (e.bucketValues[k] as number) + 1;
        return;
      }
  }
}

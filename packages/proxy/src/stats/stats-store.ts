// Envoy-style proxy counters and gauges. A stat is named by a template such as
// `cluster.{envoy_cluster_name}.upstream_rq_total`: /stats prints it with the tag value in
// place, /stats/prometheus as `envoy_cluster_upstream_rq_total{envoy_cluster_name="..."}`.

type Tags = Readonly<Record<string, string>>;

export interface Stat {
  template: string;
  tags: Tags;
  kind: 'counter' | 'gauge';
  value: number;
}

function keyOf(template: string, tags: Tags): string {
  return template.replace(/\{(\w+)\}/g, (_, t: string) => tags[t] ?? '');
}

export class StatsStore {
  private readonly stats = new Map<string, Stat>();
  /** template → tag values joined → stat: the hot path skips building the printed name. */
  private readonly byTemplate = new Map<string, Map<string, Stat>>();
  /** template → the one tag's value → counter (see `counter`). */
  private readonly oneTag = new Map<string, Map<string, Stat>>();

  private get(kind: Stat['kind'], template: string, tags: Tags): Stat {
    let inner = this.byTemplate.get(template);
    if (!inner) {
      inner = new Map();
      this.byTemplate.set(template, inner);
    }
    let tagKey = '';
    for (const k in tags) tagKey += tags[k] + '\u0000';
    let s = inner.get(tagKey);
    if (!s) {
      const key = keyOf(template, tags);
      s = this.stats.get(key) ?? { template, tags, kind, value: 0 };
      this.stats.set(key, s);
      inner.set(tagKey, s);
    }
    return s;
  }

  /**
   * The counter of a template with one tag, as a handle the hot path increments itself
   * (`.value++`): no tags object, no joined key per increment. Stats are never removed, so a
   * handle stays valid for the store's life.
   */
  counter(template: string, tag: string, value: string): Stat {
    let byValue = this.oneTag.get(template);
    if (!byValue) {
      byValue = new Map();
      this.oneTag.set(template, byValue);
    }
    let s = byValue.get(value);
    if (!s) {
      s = this.get('counter', template, { [tag]: value });
      byValue.set(value, s);
    }
    return s;
  }

  inc(template: string, tags: Tags = {}, by = 1): void {
    this.get('counter', template, tags).value += by;
  }

  gaugeAdd(template: string, tags: Tags = {}, by = 1): void {
    this.get('gauge', template, tags).value += by;
  }

  gaugeSet(template: string, tags: Tags, value: number): void {
    this.get('gauge', template, tags).value = value;
  }

  /** Every stat with its template and tags (for merging the stats of worker threads). */
  raw(): Stat[] {
    return [...this.stats.values()].map((s) => ({ ...s }));
  }

  /** A store holding the sum of several stores' raw stats (gauges and counters alike). */
  static merged(parts: readonly (readonly Stat[])[]): StatsStore {
    const out = new StatsStore();
    for (const part of parts) {
      for (const s of part) {
        if (s.kind === 'gauge') out.gaugeAdd(s.template, s.tags, s.value);
        else out.inc(s.template, s.tags, s.value);
      }
    }
    return out;
  }

  /** The value of a stat by its printed name (0 when never touched). */
  value(name: string): number {
    return this.stats.get(name)?.value ?? 0;
  }

  /** `name: value` lines sorted by name, as Envoy's /stats prints them. */
  text(filter?: (name: string) => boolean): string {
    const names = [...this.stats.keys()].filter((n) => !filter || filter(n)).sort();
    return names.map((n) => `${n}: ${this.stats.get(n)?.value ?? 0}\n`).join('');
  }

  json(): { stats: { name: string; value: number }[] } {
    const names = [...this.stats.keys()].sort();
    return { stats: names.map((name) => ({ name, value: this.stats.get(name)?.value ?? 0 })) };
  }

  /** Prometheus text exposition with `envoy_` names and the template's tags as labels. */
  prometheus(): string {
    const byName = new Map<string, Stat[]>();
    for (const s of this.stats.values()) {
      const name =
        'envoy_' +
        s.template
          .replace(/\{\w+\}\.?/g, '')
          .replace(/\.$/, '')
          .replace(/[^a-zA-Z0-9_]/g, '_');
      const list = byName.get(name) ?? [];
      list.push(s);
      byName.set(name, list);
    }
    const out: string[] = [];
    for (const name of [...byName.keys()].sort()) {
      const list = byName.get(name) ?? [];
      out.push(`# TYPE ${name} ${list[0]?.kind ?? 'counter'}`);
      for (const s of list) {
        const labels = Object.entries(s.tags)
          .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
          .join(',');
        out.push(`${name}${labels ? `{${labels}}` : ''} ${s.value}`);
      }
    }
    return out.join('\n') + '\n';
  }
}

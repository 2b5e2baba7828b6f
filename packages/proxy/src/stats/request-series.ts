// The labels of a request's Istio metrics, resolved once per series: the same (local and peer
// workload, service, protocol, mTLS, principal, Telemetry policy, cluster, response code, gRPC status,
// response flags) always yields the same labels, so a request with a known series costs a map lookup
// instead of building ~25 labels and applying the policy to each of the four metrics, and the
// series' prom-client values are updated in place (series-cell.ts).
import type { MetricContext } from './istio-metrics.js';
import type { CounterCell, HistogramCell } from './series-cell.js';
import { policyIsPerSeries, type MetricsPolicy } from './stats-config.js';

/** The series of each request metric (final labels, after the policy); undefined where it is dropped. */
export interface ResolvedSeries {
  readonly requests: CounterCell | undefined;
  readonly duration: HistogramCell | undefined;
  readonly reqBytes: HistogramCell | undefined;
  readonly respBytes: HistogramCell | undefined;
}

/** Series kept at most; past it the cache starts again (label values are bounded in practice). */
const MAX_SERIES = 4096;
const NONE = {};

/** A free-form key part, length-prefixed so that no two different sets of parts make one key. */
function part(s: string | undefined): string {
  return s === undefined ? '-|' : `${s.length}:${s}|`;
}

export class RequestSeriesCache {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly perSeries = new WeakMap<MetricsPolicy, boolean>();
  private readonly series = new Map<string, ResolvedSeries>();

  /** Whether requests under this policy may share resolved labels (it reads no request attribute). */
  cacheable(policy: MetricsPolicy | undefined): boolean {
    if (!policy) return true;
    let ok = this.perSeries.get(policy);
    if (ok === undefined) this.perSeries.set(policy, (ok = policyIsPerSeries(policy)));
    return ok;
  }

  private id(o: object): number {
    let n = this.ids.get(o);
    if (n === undefined) this.ids.set(o, (n = this.nextId++));
    return n;
  }

  /** The key of a request's series: everything its labels and a per-series policy are made from. */
  key(ctx: MetricContext, cluster: string | undefined, code: number, grpc: string, flags: string): string {
    return (
      `${this.id(ctx.local)}|${this.id(ctx.peer ?? NONE)}|${this.id(ctx.policy ?? NONE)}|${ctx.reporter}|` +
      `${ctx.protocol}|${ctx.mtls ? 1 : 0}|${code}|${flags}|${part(grpc)}${part(ctx.service)}` +
      `${part(ctx.peerPrincipal)}${part(cluster)}`
    );
  }

  get(key: string): ResolvedSeries | undefined {
    return this.series.get(key);
  }

  set(key: string, s: ResolvedSeries): void {
    if (this.series.size >= MAX_SERIES) this.series.clear();
    this.series.set(key, s);
  }
}

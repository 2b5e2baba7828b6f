// Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds, bytes and
// TCP counters) with Istio's label set, recorded per request by the HTTP connection manager and
// per connection by tcp_proxy, in a prom-client registry owned by one proxy. A Telemetry policy
// (stats-config.ts) may drop a metric, remove tags or add tags.
import type * as PromClient from 'prom-client';
import type { Counter, Histogram, Registry } from 'prom-client';
import { lazyRequire } from '../util/lazy-require.js';
import type { PeerMetadata, StreamInfo } from '../http-connection-manager/stream-info.js';
import { principalOf } from './workload-metadata.js';
import { CounterCell, HistogramCell } from './series-cell.js';
import { RequestSeriesCache, type ResolvedSeries } from './request-series.js';
import { applyPolicy, type Attributes, type MetricsPolicy } from './stats-config.js';

const LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;
const TCP_LABELS = LABELS.filter((l) => l !== 'response_code' && l !== 'grpc_response_status');

type Labels = Record<(typeof LABELS)[number], string>;

export type Reporter = 'source' | 'destination';

/** Service FQDN from an Istio cluster name (`outbound|80|v1|reviews.ns.svc.cluster.local`). */
export function serviceOfCluster(cluster: string | undefined): string | undefined {
  if (!cluster) return undefined;
  const parts = cluster.split('|');
  return parts.length === 4 && parts[3] ? parts[3] : undefined;
}

export interface MetricContext {
  reporter: Reporter;
  local: PeerMetadata;
  peer: PeerMetadata | undefined;
  /** Destination service host (FQDN) when known. */
  service: string | undefined;
  protocol: 'http' | 'grpc' | 'tcp';
  mtls: boolean;
  /** The peer's principal from its TLS certificate, when known. */
  peerPrincipal?: string | undefined;
  /** Telemetry metric overrides from the `istio.stats` filter of this listener's chain. */
  policy?: MetricsPolicy | undefined;
}

function u(v: string | undefined): string {
  return v ?? 'unknown';
}

function labelsOf(
  ctx: MetricContext,
): Omit<Labels, 'response_code' | 'grpc_response_status' | 'response_flags'> {
  const src = ctx.reporter === 'source' ? ctx.local : ctx.peer;
  const dst = ctx.reporter === 'source' ? ctx.peer : ctx.local;
  const svc = ctx.service;
  const svcParts = svc?.split('.') ?? [];
  const isK8s = svc?.includes('.svc.') === true;
  return {
    reporter: ctx.reporter,
    source_workload: u(src?.workload),
    source_workload_namespace: u(src?.namespace),
    source_principal: ctx.mtls
      ? ((ctx.reporter === 'destination' ? ctx.peerPrincipal : undefined) ?? principalOf(src))
      : 'unknown',
    source_app: u(src?.app),
    source_version: u(src?.version),
    source_canonical_service: u(src?.canonicalService),
    source_canonical_revision: src?.canonicalRevision ?? 'latest',
    source_cluster: u(src?.clusterId),
    destination_workload: u(dst?.workload),
    destination_workload_namespace: u(dst?.namespace),
    destination_principal: ctx.mtls
      ? ((ctx.reporter === 'source' ? ctx.peerPrincipal : undefined) ?? principalOf(dst))
      : 'unknown',
    destination_app: u(dst?.app),
    destination_version: u(dst?.version),
    destination_service: u(svc),
    destination_service_name: u(isK8s ? svcParts[0] : svc),
    destination_service_namespace: u(isK8s ? svcParts[1] : dst?.namespace),
    destination_canonical_service: u(dst?.canonicalService),
    destination_canonical_revision: dst?.canonicalRevision ?? 'latest',
    destination_cluster: u(dst?.clusterId),
    request_protocol: ctx.protocol,
    connection_security_policy:
      ctx.reporter === 'destination' ? (ctx.mtls ? 'mutual_tls' : 'none') : 'unknown',
  };
}

const BUCKETS_MS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];
/** prom-client, loaded when a proxy first records or exposes an Istio metric (an idle proxy does not). */
export const promClient = lazyRequire<typeof PromClient>('prom-client');

const BUCKETS_BYTES = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

type AnyMetric = Counter<string> | Histogram<string>;

/**
 * One metric whose label set can grow: Telemetry tag overrides add labels Istio's defaults lack.
 * prom-client fixes label names at construction, so a new tag name recreates the metric (its
 * series restart from zero, which Prometheus reads as a counter reset).
 */
class Family {
  labelNames: string[];
  metric: AnyMetric;
  constructor(
    private readonly registry: Registry,
    readonly name: string,
    private readonly help: string,
    base: readonly string[],
    private readonly buckets?: number[],
  ) {
    this.labelNames = [...base];
    this.metric = this.make();
  }

  private make(): AnyMetric {
    const o = { name: this.name, help: this.help, labelNames: this.labelNames, registers: [this.registry] };
    const prom = promClient();
    return this.buckets ? new prom.Histogram({ ...o, buckets: this.buckets }) : new prom.Counter(o);
  }

  /** The metric, with every label in `labels` known to it. */
  with(labels: Record<string, string>): AnyMetric {
    const missing = Object.keys(labels).filter((k) => !this.labelNames.includes(k));
    if (missing.length > 0) {
      this.registry.removeSingleMetric(this.name);
      this.labelNames = [...this.labelNames, ...missing];
      this.metric = this.make();
    }
    return this.metric;
  }
}

/** The registry and every family, made on first use. */
function makeFamilies(): { registry: Registry } & Record<FamilyName, Family> {
  const registry = new (promClient().Registry)();
  return {
    registry,
    requests: new Family(registry, 'istio_requests_total', 'Requests', LABELS),
    duration: new Family(
      registry,
      'istio_request_duration_milliseconds',
      'Request duration',
      LABELS,
      BUCKETS_MS,
    ),
    reqBytes: new Family(registry, 'istio_request_bytes', 'Request size', LABELS, BUCKETS_BYTES),
    respBytes: new Family(registry, 'istio_response_bytes', 'Response size', LABELS, BUCKETS_BYTES),
    tcpSent: new Family(registry, 'istio_tcp_sent_bytes_total', 'Bytes sent on TCP connections', TCP_LABELS),
    tcpReceived: new Family(
      registry,
      'istio_tcp_received_bytes_total',
      'Bytes received on TCP connections',
      TCP_LABELS,
    ),
    tcpOpened: new Family(
      registry,
      'istio_tcp_connections_opened_total',
      'TCP connections opened',
      TCP_LABELS,
    ),
    tcpClosed: new Family(
      registry,
      'istio_tcp_connections_closed_total',
      'TCP connections closed',
      TCP_LABELS,
    ),
  };
}

type FamilyName =
  'requests' | 'duration' | 'reqBytes' | 'respBytes' | 'tcpSent' | 'tcpReceived' | 'tcpOpened' | 'tcpClosed';

export class IstioMetrics {
  private state: ReturnType<typeof makeFamilies> | undefined;
  private readonly seriesCache = new RequestSeriesCache();

  /** `uncached`: resolve every request's labels afresh (the reference the cache is tested against). */
  constructor(private readonly uncached = false) {}

  private get families(): ReturnType<typeof makeFamilies> {
    this.state ??= makeFamilies();
    return this.state;
  }

  /** The prom-client registry (loads prom-client and registers the families on first use). */
  get registry(): Registry {
    return this.families.registry;
  }
  private get requests(): Family {
    return this.families.requests;
  }
  private get duration(): Family {
    return this.families.duration;
  }
  private get reqBytes(): Family {
    return this.families.reqBytes;
  }
  private get respBytes(): Family {
    return this.families.respBytes;
  }
  private get tcpSent(): Family {
    return this.families.tcpSent;
  }
  private get tcpReceived(): Family {
    return this.families.tcpReceived;
  }
  private get tcpOpened(): Family {
    return this.families.tcpOpened;
  }
  private get tcpClosed(): Family {
    return this.families.tcpClosed;
  }

  /** Counts `value` on a family after the context's Telemetry policy (drop, remove, add tags). */
  private count(
    f: Family,
    ctx: MetricContext,
    labels: Record<string, string>,
    attrs: Attributes,
    value: number,
  ): void {
    const final = applyPolicy(ctx.policy, f.name, labels, attrs);
    if (!final) return;
    const m = f.with(final);
    if (m instanceof promClient().Histogram) m.observe(final, value);
    else m.inc(final, value);
  }

  recordRequest(ctx: MetricContext, info: StreamInfo): void {
    const grpcStatus = info.responseTrailers['grpc-status'] ?? info.responseHeaders['grpc-status'];
    const grpc = ctx.protocol === 'grpc' ? (grpcStatus ?? '') : '';
    const flags = info.responseFlags.size === 0 ? '-' : [...info.responseFlags].join(',');
    const cache = this.cacheFor(ctx);
    const key = cache ? this.seriesCache.key(ctx, info.clusterName, info.responseCode, grpc, flags) : '';
    let s = cache?.get(key);
    if (!s) {
      s = this.resolve(ctx, info, grpc, flags);
      cache?.set(key, s);
    }
    const f = this.families;
    const ms = (info.endMs ?? info.startMs) - info.startMs;
    if (this.uncached) {
      // The reference path: prom-client's public API with the labels, as before the cache.
      if (s.requests) (f.requests.metric as Counter<string>).inc(s.requests.labels, 1);
      if (s.duration) (f.duration.metric as Histogram<string>).observe(s.duration.labels, ms);
      if (s.reqBytes) (f.reqBytes.metric as Histogram<string>).observe(s.reqBytes.labels, info.bytesReceived);
      if (s.respBytes) (f.respBytes.metric as Histogram<string>).observe(s.respBytes.labels, info.bytesSent);
      return;
    }
    s.requests?.inc(f.requests.metric as Counter<string>, 1);
    s.duration?.observe(f.duration.metric as Histogram<string>, ms);
    s.reqBytes?.observe(f.reqBytes.metric as Histogram<string>, info.bytesReceived);
    s.respBytes?.observe(f.respBytes.metric as Histogram<string>, info.bytesSent);
  }

  /** The series cache when this context's labels may be reused (see request-series.ts). */
  private cacheFor(ctx: MetricContext): RequestSeriesCache | undefined {
    if (this.uncached) return undefined;
    return this.seriesCache.cacheable(ctx.policy) ? this.seriesCache : undefined;
  }

  /** A request's final labels per metric, the Telemetry policy applied (and label names registered). */
  private resolve(ctx: MetricContext, info: StreamInfo, grpc: string, flags: string): ResolvedSeries {
    const labels: Labels = {
      ...labelsOf(ctx),
      response_code: String(info.responseCode),
      grpc_response_status: grpc,
      response_flags: flags,
    };
    const attrs: Attributes = { info, labels, cluster: info.clusterName };
    const final = (f: Family): Record<string, string> | undefined => {
      const out = applyPolicy(ctx.policy, f.name, labels, attrs);
      if (out) f.with(out);
      return out;
    };
    const counter = (f: Family): CounterCell | undefined => {
      const l = final(f);
      return l && new CounterCell(l);
    };
    const histogram = (f: Family): HistogramCell | undefined => {
      const l = final(f);
      return l && new HistogramCell(l);
    };
    const { requests, duration, reqBytes, respBytes } = this.families;
    return {
      requests: counter(requests),
      duration: histogram(duration),
      reqBytes: histogram(reqBytes),
      respBytes: histogram(respBytes),
    };
  }

  tcpOpen(ctx: MetricContext): void {
    const labels = { ...labelsOf(ctx), response_flags: '-' };
    this.count(this.tcpOpened, ctx, labels, { labels }, 1);
  }

  /** Bytes of a connection that is still open (reported every tcp_reporting_duration). */
  tcpBytes(ctx: MetricContext, sent: number, received: number): void {
    const labels = { ...labelsOf(ctx), response_flags: '-' };
    const attrs: Attributes = { labels };
    if (sent > 0) this.count(this.tcpSent, ctx, labels, attrs, sent);
    if (received > 0) this.count(this.tcpReceived, ctx, labels, attrs, received);
  }

  /** A closed connection, with the bytes not yet reported. */
  tcpClose(ctx: MetricContext, sent: number, received: number, flags: string): void {
    const labels = { ...labelsOf(ctx), response_flags: flags };
    const attrs: Attributes = { labels };
    this.count(this.tcpClosed, ctx, labels, attrs, 1);
    this.count(this.tcpSent, ctx, labels, attrs, sent);
    this.count(this.tcpReceived, ctx, labels, attrs, received);
  }

  async prometheus(): Promise<string> {
    return this.registry.metrics();
  }
}

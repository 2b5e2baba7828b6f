// Istio's standard metrics (istio_requests_total, istio_request_duration_milliseconds, bytes and
// TCP counters) with Istio's label set, recorded per request by the HTTP connection manager and
// per connection by tcp_proxy, in a prom-client registry owned by one proxy.
import { Counter, Histogram, Registry } from 'prom-client';
import type { PeerMetadata, StreamInfo } from '../http-connection-manager/stream-info.js';
import { principalOf } from './workload-metadata.js';

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
const BUCKETS_BYTES = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

export class IstioMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'istio_requests_total',
    help: 'Requests',
    labelNames: LABELS,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'istio_request_duration_milliseconds',
    help: 'Request duration',
    labelNames: LABELS,
    buckets: BUCKETS_MS,
    registers: [this.registry],
  });
  private readonly reqBytes = new Histogram({
    name: 'istio_request_bytes',
    help: 'Request size',
    labelNames: LABELS,
    buckets: BUCKETS_BYTES,
    registers: [this.registry],
  });
  private readonly respBytes = new Histogram({
    name: 'istio_response_bytes',
    help: 'Response size',
    labelNames: LABELS,
    buckets: BUCKETS_BYTES,
    registers: [this.registry],
  });
  private readonly tcpSent = new Counter({
    name: 'istio_tcp_sent_bytes_total',
    help: 'Bytes sent on TCP connections',
    labelNames: TCP_LABELS,
    registers: [this.registry],
  });
  private readonly tcpReceived = new Counter({
    name: 'istio_tcp_received_bytes_total',
    help: 'Bytes received on TCP connections',
    labelNames: TCP_LABELS,
    registers: [this.registry],
  });
  private readonly tcpOpened = new Counter({
    name: 'istio_tcp_connections_opened_total',
    help: 'TCP connections opened',
    labelNames: TCP_LABELS,
    registers: [this.registry],
  });
  private readonly tcpClosed = new Counter({
    name: 'istio_tcp_connections_closed_total',
    help: 'TCP connections closed',
    labelNames: TCP_LABELS,
    registers: [this.registry],
  });

  recordRequest(ctx: MetricContext, info: StreamInfo): void {
    const grpc = info.responseTrailers['grpc-status'] ?? info.responseHeaders['grpc-status'];
    const flags = [...info.responseFlags].join(',') || '-';
    const labels: Labels = {
      ...labelsOf(ctx),
      response_code: String(info.responseCode),
      grpc_response_status: ctx.protocol === 'grpc' ? (grpc ?? '') : '',
      response_flags: flags,
    };
    this.requests.inc(labels);
    this.duration.observe(labels, (info.endMs ?? info.startMs) - info.startMs);
    this.reqBytes.observe(labels, info.bytesReceived);
    this.respBytes.observe(labels, info.bytesSent);
  }

  tcpOpen(ctx: MetricContext): void {
    this.tcpOpened.inc({ ...labelsOf(ctx), response_flags: '-' });
  }

  tcpClose(ctx: MetricContext, sent: number, received: number, flags: string): void {
    const l = { ...labelsOf(ctx), response_flags: flags };
    this.tcpClosed.inc(l);
    this.tcpSent.inc(l, sent);
    this.tcpReceived.inc(l, received);
  }

  async prometheus(): Promise<string> {
    return this.registry.metrics();
  }
}

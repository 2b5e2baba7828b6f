// What the HTTP connection manager and tcp_proxy need from the running proxy: clusters, route
// tables (RDS), stats, Istio metrics, local workload metadata, logging. One small interface so
// the data path can be driven in tests without the xDS machinery.
import type { ClusterManager } from '../cluster/cluster-manager.js';
import type { RouteTable } from '../router/route-table.js';
import type { StatsStore } from '../stats/stats-store.js';
import type { IstioMetrics } from '../stats/istio-metrics.js';
import type { MetricsPolicy } from '../stats/stats-config.js';
import type { Logger } from '../util/logger.js';
import type { PeerMetadata } from './stream-info.js';
import type { SecretStore } from '../transport-socket/secret-store.js';
import type { Tracing } from '../tracing/tracer.js';
import type { ClientCertInfo } from '../transport-socket/client-cert-details.js';

export interface ProxyContext {
  readonly clusters: ClusterManager;
  /** The current compiled RouteConfiguration of an RDS name (undefined while it warms). */
  routeTable(name: string): RouteTable | undefined;
  readonly stats: StatsStore;
  readonly istio: IstioMetrics;
  readonly local: PeerMetadata;
  readonly nodeId: string;
  readonly log: Logger;
  /** TLS secrets (static and SDS) for transport sockets. */
  readonly secrets: SecretStore;
  /** This thread's worker index (0 for the primary). */
  readonly workerId: number;
  /** Span export (OpenTelemetry) shared by every HTTP connection manager of this proxy. */
  readonly tracing: Tracing;
  /** The bootstrap's `tracing.http` provider, used when an HCM enables tracing without one. */
  readonly defaultTraceProvider: TraceProviderJson | undefined;
}

export interface TraceProviderJson {
  name?: string;
  typedConfig?: {
    '@type'?: string;
    grpcService?: { envoyGrpc?: { clusterName?: string } };
    serviceName?: string;
  };
}

/** The downstream connection a request or TCP stream arrived on. */
export interface DownstreamConnection {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** The destination before iptables REDIRECT (use_original_dst), else the local address. */
  originalDst: { address: string; port: number } | undefined;
  tls: boolean;
  /** The peer's URI SAN (SPIFFE identity) when it presented a verified certificate. */
  peerPrincipal?: string;
  /** The ALPN protocol negotiated on a TLS connection. */
  alpn?: string;
  /** A mutual-TLS connection's certificates, for x-forwarded-client-cert. */
  clientCert?: ClientCertInfo;
  /** original_src listener filter: upstream connections leave from the client's address. */
  originalSource?: { address: string; mark: number };
  /** `remoteAddress:remotePort` and `localAddress:localPort`, made by the first request's StreamInfo. */
  remoteLabel?: string;
  localLabel?: string;
}

export interface ListenerInfo {
  name: string;
  statPrefix: string;
  /** Listener traffic_direction: decides the Istio metrics reporter and metadata exchange. */
  direction: 'INBOUND' | 'OUTBOUND' | undefined;
  /** Telemetry metric overrides of this filter chain (its `istio.stats` network filter). */
  metricsPolicy?: MetricsPolicy | undefined;
}

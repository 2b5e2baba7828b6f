// What is known about one request as it crosses the proxy: timings, the route and upstream it
// took, response flags — read by access logs, Istio metrics and stats when it completes.

export interface StreamInfo {
  startTime: Date;
  startMs: number;
  endMs?: number;
  /** First byte of the upstream response (for x-envoy-upstream-service-time). */
  upstreamResponseMs?: number;
  protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2' | 'TCP';
  method: string;
  path: string;
  authority: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  responseTrailers: Record<string, string>;
  responseCode: number;
  responseFlags: Set<string>;
  routeName?: string;
  clusterName?: string;
  upstreamHost?: string;
  bytesReceived: number;
  bytesSent: number;
  downstreamRemote: string;
  downstreamLocal: string;
  requestId?: string;
  attempts: number;
  /** Peer workload metadata learned through metadata exchange. */
  peer?: PeerMetadata;
  tls: boolean;
  /** Downstream peer's URI SAN from its verified TLS certificate. */
  peerPrincipal?: string;
  /** The upstream connection used TLS (the cluster has an UpstreamTlsContext). */
  upstreamTls?: boolean;
  /** Dynamic metadata by filter name (e.g. what an authentication filter established). */
  dynamicMetadata?: Record<string, Record<string, unknown>>;
}

/** Workload metadata exchanged between proxies (Istio's x-envoy-peer-metadata equivalent). */
export interface PeerMetadata {
  workload?: string;
  namespace?: string;
  app?: string;
  version?: string;
  canonicalService?: string;
  canonicalRevision?: string;
  serviceAccount?: string;
  clusterId?: string;
  labels?: Record<string, string>;
}

/** Envoy's short response flag order, so %RESPONSE_FLAGS% prints in a stable order. */
const FLAG_ORDER = [
  'DC',
  'DI',
  'DPE',
  'DT',
  'FI',
  'LH',
  'LR',
  'NC',
  'NR',
  'RL',
  'SI',
  'UAEX',
  'UC',
  'UF',
  'UH',
  'UO',
  'UPE',
  'UR',
  'URX',
  'UT',
];

export function formatFlags(flags: ReadonlySet<string>): string {
  if (flags.size === 0) return '-';
  return [...flags].sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b)).join(',');
}

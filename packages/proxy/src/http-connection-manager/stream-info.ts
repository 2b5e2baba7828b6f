// What is known about one request as it crosses the proxy: timings, the route and upstream it
// took, response flags — read by access logs, Istio metrics and stats when it completes.

export interface StreamInfo {
  startTime: Date;
  startMs: number;
  endMs?: number | undefined;
  /** First byte of the upstream response (for x-envoy-upstream-service-time). */
  upstreamResponseMs?: number | undefined;
  protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2' | 'TCP';
  method: string;
  path: string;
  authority: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  responseTrailers: Record<string, string>;
  responseCode: number;
  responseFlags: Set<string>;
  routeName?: string | undefined;
  clusterName?: string | undefined;
  upstreamHost?: string | undefined;
  bytesReceived: number;
  bytesSent: number;
  downstreamRemote: string;
  downstreamLocal: string;
  requestId?: string | undefined;
  attempts: number;
  /** Peer workload metadata learned through metadata exchange. */
  peer?: PeerMetadata | undefined;
  tls: boolean;
  /** Downstream peer's URI SAN from its verified TLS certificate. */
  peerPrincipal?: string | undefined;
  /** The upstream connection used TLS (the cluster has an UpstreamTlsContext). */
  upstreamTls?: boolean | undefined;
  /** Dynamic metadata by filter name (e.g. what an authentication filter established). */
  dynamicMetadata?: Record<string, Record<string, unknown>> | undefined;
}

/** What an HTTP stream's info is built from (the downstream connection's cached address labels). */
export interface HttpStreamStart {
  startMs: number;
  protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  method: string;
  path: string;
  authority: string;
  requestHeaders: Record<string, string>;
  downstreamRemote: string;
  downstreamLocal: string;
  tls: boolean;
}

/**
 * An HTTP stream's StreamInfo: every field set in the constructor, so all requests share one shape
 * (an object literal grew a new shape with each optional field set later), the start `Date` made
 * only when read (access logs), and the flag set only when a flag is added or read.
 */
export class HttpStreamInfo implements StreamInfo {
  startMs: number;
  endMs: number | undefined = undefined;
  upstreamResponseMs: number | undefined = undefined;
  protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  method: string;
  path: string;
  authority: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string> = EMPTY;
  responseTrailers: Record<string, string> = EMPTY;
  responseCode = 0;
  routeName: string | undefined = undefined;
  clusterName: string | undefined = undefined;
  upstreamHost: string | undefined = undefined;
  bytesReceived = 0;
  bytesSent = 0;
  downstreamRemote: string;
  downstreamLocal: string;
  requestId: string | undefined = undefined;
  attempts = 0;
  peer: PeerMetadata | undefined = undefined;
  tls: boolean;
  peerPrincipal: string | undefined = undefined;
  upstreamTls: boolean | undefined = undefined;
  dynamicMetadata: Record<string, Record<string, unknown>> | undefined = undefined;
  private flags: Set<string> | undefined = undefined;
  private start: Date | undefined = undefined;

  constructor(s: HttpStreamStart) {
    this.startMs = s.startMs;
    this.protocol = s.protocol;
    this.method = s.method;
    this.path = s.path;
    this.authority = s.authority;
    this.requestHeaders = s.requestHeaders;
    this.downstreamRemote = s.downstreamRemote;
    this.downstreamLocal = s.downstreamLocal;
    this.tls = s.tls;
  }

  get startTime(): Date {
    return (this.start ??= new Date(this.startMs));
  }

  get responseFlags(): Set<string> {
    return (this.flags ??= new Set());
  }

  /** Whether any response flag is set (without making the set). */
  get hasFlags(): boolean {
    return this.flags !== undefined && this.flags.size > 0;
  }
}

/** The shared initial response headers and trailers (replaced, never written to). */
const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

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

// Small builders for Envoy JSON shared by the generators: typed Any configs with their type URLs,
// Go-style durations to proto JSON, socket addresses, fractional percentages, well-known names.
import type { coreAddressV3 } from '@skein/api-types';

/** Type URLs of the extension configs skeind writes. */
export const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  originalDst: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  originalSrc: 'type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc',
  httpInspector: 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
  tlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  httpProtocolOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  fileAccessLog: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
} as const;

/** Filter names as Envoy registers them. */
export const FilterName = {
  hcm: 'envoy.filters.network.http_connection_manager',
  tcpProxy: 'envoy.filters.network.tcp_proxy',
  router: 'envoy.filters.http.router',
  fault: 'envoy.filters.http.fault',
  cors: 'envoy.filters.http.cors',
  originalDst: 'envoy.filters.listener.original_dst',
  originalSrc: 'envoy.filters.listener.original_src',
  httpInspector: 'envoy.filters.listener.http_inspector',
  tlsInspector: 'envoy.filters.listener.tls_inspector',
} as const;

export type AnyJson = { '@type'?: string };

/** A typed config packed as google.protobuf.Any in canonical JSON. */
export function typed<B extends object>(typeUrl: string, body: B): AnyJson {
  return { '@type': typeUrl, ...body } as AnyJson;
}

const UNITS: Readonly<Record<string, number>> = {
  h: 3600,
  m: 60,
  s: 1,
  ms: 1e-3,
  us: 1e-6,
  µs: 1e-6,
  ns: 1e-9,
};

/** Go duration ("1.5s", "100ms", "1m30s") to seconds; undefined when malformed. */
export function durationSeconds(d: string): number | undefined {
  if (d === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(d); m; m = re.exec(d)) {
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1);
    matched = re.lastIndex;
  }
  return matched === d.length && matched > 0 ? total : undefined;
}

/** Go duration → proto JSON Duration ("0.100s"). */
export function duration(d: string): string {
  const s = durationSeconds(d) ?? 0;
  return `${Number(s.toFixed(9))}s`;
}

export function socketAddress(address: string, port: number): coreAddressV3.AddressJson {
  return { socketAddress: { address, portValue: port } };
}

/** Envoy FractionalPercent from an Istio percentage (0–100, fractional allowed). */
export function fractionalPercent(percent: number): { numerator: number; denominator: 'MILLION' } {
  return { numerator: Math.round(Math.min(100, Math.max(0, percent)) * 10_000), denominator: 'MILLION' };
}

export const ADS_CONFIG_SOURCE = { ads: {}, resourceApiVersion: 'V3' } as const;

/** Istio's effectively-unlimited circuit-breaker value. */
export const MAX_UINT32 = 4294967295;

/** gRPC status names to codes (fault abort grpcStatus accepts either). */
export const GRPC_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** "10.0.0.1:8080" / "[::1]:80" → address and port. */
export function parseHostPort(s: string): { address: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) return undefined;
  return { address: m[1] ?? '', port: Number(m[2]) };
}

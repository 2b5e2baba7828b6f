// Envoy's AccessLogFilter: which completed requests an access log writes. Compiled once per
// HCM; a filter kind Skein cannot evaluate is an error naming it (the config is rejected), never
// silently treated as "log everything".
import type { accessLogV3, routeComponentsV3 } from '@skein/api-types';
import { compileHeaderMatcher } from '../router/string-matcher.js';
import type { StreamInfo } from '../http-connection-manager/stream-info.js';

export type AccessLogFilterJson = accessLogV3.AccessLogFilterJson;
export type LogFilter = (info: StreamInfo) => boolean;

/** Envoy's short response flags (what `response_flag_filter.flags` may name). */
const KNOWN_FLAGS = new Set([
  'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI',
  'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR', 'UDO',
]); // prettier-ignore

/** gRPC status codes by their proto enum name (GrpcStatusFilter.Status). */
const GRPC_STATUS = [
  'OK', 'CANCELED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]; // prettier-ignore

/** The gRPC status of a finished request: its grpc-status, else the HTTP status mapped as gRPC does. */
function grpcStatusOf(info: StreamInfo): number {
  const raw = info.responseTrailers['grpc-status'] ?? info.responseHeaders['grpc-status'];
  if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw);
  switch (info.responseCode) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

function comparison(c: accessLogV3.ComparisonFilterJson | undefined, what: string): (n: number) => boolean {
  const v = c?.value?.defaultValue;
  if (v === undefined) throw new Error(`access log ${what}: comparison.value.default_value is required`);
  const value = Number(v);
  switch (c?.op ?? 'EQ') {
    case 'EQ':
      return (n) => n === value;
    case 'GE':
      return (n) => n >= value;
    case 'LE':
      return (n) => n <= value;
    default:
      throw new Error(`access log ${what}: unknown comparison op ${String(c?.op)}`);
  }
}

function denominatorOf(d: string | undefined): number {
  if (d === undefined || d === 'HUNDRED') return 100;
  if (d === 'TEN_THOUSAND') return 10_000;
  if (d === 'MILLION') return 1_000_000;
  throw new Error(`access log runtime_filter: unknown denominator ${d}`);
}

/** A stable number from a request id (the same request id samples the same way on every proxy). */
function hashOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** HTTP/2-style pseudo-headers of a request, which header filters may name. */
function pseudoHeader(info: StreamInfo, name: string): string | undefined {
  if (info.protocol === 'TCP') return undefined;
  if (name === ':method') return info.method;
  if (name === ':path') return info.path;
  if (name === ':authority') return info.authority;
  return undefined;
}

export function compileLogFilter(f: AccessLogFilterJson): LogFilter {
  if (f.statusCodeFilter) {
    const test = comparison(f.statusCodeFilter.comparison, 'status_code_filter');
    return (i) => test(i.responseCode);
  }
  if (f.durationFilter) {
    const test = comparison(f.durationFilter.comparison, 'duration_filter');
    return (i) => test((i.endMs ?? Date.now()) - i.startMs);
  }
  if (f.notHealthCheckFilter) return () => true; // no health-check filter marks requests as such
  if (f.runtimeFilter) {
    const p = f.runtimeFilter.percentSampled;
    const denominator = denominatorOf(p?.denominator);
    const numerator = Number(p?.numerator ?? 0);
    const independent = f.runtimeFilter.useIndependentRandomness === true;
    return (i) =>
      (independent || !i.requestId
        ? Math.floor(Math.random() * denominator)
        : hashOf(i.requestId) % denominator) < numerator;
  }
  if (f.andFilter || f.orFilter) {
    const list = (f.andFilter ?? f.orFilter)?.filters ?? [];
    if (list.length < 2) throw new Error('access log and_filter/or_filter needs at least two filters');
    const parts = list.map(compileLogFilter);
    return f.andFilter ? (i) => parts.every((p) => p(i)) : (i) => parts.some((p) => p(i));
  }
  if (f.headerFilter) {
    if (!f.headerFilter.header) throw new Error('access log header_filter: header is required');
    const test = compileHeaderMatcher(f.headerFilter.header as routeComponentsV3.HeaderMatcherJson);
    return (i) => test((name) => (name.startsWith(':') ? pseudoHeader(i, name) : i.requestHeaders[name]));
  }
  if (f.responseFlagFilter) {
    const flags = f.responseFlagFilter.flags ?? [];
    for (const flag of flags)
      if (!KNOWN_FLAGS.has(flag)) throw new Error(`access log response_flag_filter: unknown flag ${flag}`);
    if (flags.length === 0) return (i) => i.responseFlags.size > 0;
    return (i) => flags.some((flag) => i.responseFlags.has(flag));
  }
  if (f.grpcStatusFilter) {
    const codes = new Set(
      (f.grpcStatusFilter.statuses ?? []).map((s) => {
        const n = GRPC_STATUS.indexOf(s);
        if (n < 0) throw new Error(`access log grpc_status_filter: unknown status ${s}`);
        return n;
      }),
    );
    const exclude = f.grpcStatusFilter.exclude === true;
    return (i) => codes.has(grpcStatusOf(i)) !== exclude;
  }
  if (f.logTypeFilter) {
    const types = f.logTypeFilter.types ?? [];
    const exclude = f.logTypeFilter.exclude === true;
    // Skein writes one entry when a request or TCP connection ends, never periodic or upstream ones.
    const ends = types.length === 0 || types.some((t) => t === 'DownstreamEnd' || t === 'TcpConnectionEnd');
    return () => ends !== exclude;
  }
  const kind = Object.keys(f)[0] ?? '(empty)';
  throw new Error(`access log filter ${kind} is not supported by skein-proxy`);
}

// The Istio stats filter's configuration: a filter named `istio.stats` whose typed config is
// Istio's `stats.PluginConfig` fields, carried as a `google.protobuf.Struct` (or an
// `xds.type.v3.TypedStruct` naming `stats.PluginConfig`), as the control plane derives it from Telemetry
// `metrics` overrides: per metric, drop it, remove tags, or add/replace tags whose value is an
// attribute expression. The HTTP filter configures HTTP metrics, the network filter TCP ones.
import type { StreamInfo } from '../http-connection-manager/stream-info.js';
import { durationMs } from '../util/duration.js';

export const STATS_FILTER_NAME = 'istio.stats';
export const STATS_PLUGIN_CONFIG_TYPE = 'type.googleapis.com/stats.PluginConfig';
const STRUCT_TYPE = 'type.googleapis.com/google.protobuf.Struct';
const TYPED_STRUCT_TYPES = [
  'type.googleapis.com/xds.type.v3.TypedStruct',
  'type.googleapis.com/udpa.type.v1.TypedStruct',
];

/** One metric's overrides; `name` is Istio's short name (`requests_total`), empty for all. */
export interface MetricOverride {
  readonly name: string;
  readonly drop: boolean;
  readonly tagsToRemove: readonly string[];
  /** Tag → attribute expression. */
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface MetricsPolicy {
  readonly metrics: readonly MetricOverride[];
  /** How often open TCP connections report their bytes (`tcp_reporting_duration`; Istio: 5 s). */
  readonly tcpReportingMs?: number | undefined;
}

type Json = Record<string, unknown>;

/** The PluginConfig of a filter, or undefined when it is not the stats filter. */
export function statsPolicyOf(filter: {
  name?: string | undefined;
  typedConfig?: unknown;
}): MetricsPolicy | undefined {
  const tc = filter.typedConfig as Json | undefined;
  if (!tc || typeof tc !== 'object') return undefined;
  let body: Json | undefined;
  if (tc['@type'] === STATS_PLUGIN_CONFIG_TYPE) body = tc;
  else if (tc['@type'] === STRUCT_TYPE && filter.name === STATS_FILTER_NAME)
    body = (tc['value'] as Json | undefined) ?? {};
  else if (TYPED_STRUCT_TYPES.includes(String(tc['@type'])) && tc['typeUrl'] === STATS_PLUGIN_CONFIG_TYPE)
    body = (tc['value'] as Json | undefined) ?? {};
  if (!body) return undefined;
  const list = Array.isArray(body['metrics']) ? (body['metrics'] as Json[]) : [];
  const reporting = body['tcpReportingDuration'] ?? body['tcp_reporting_duration'];
  const tcpReportingMs = reporting === undefined ? undefined : durationMs(String(reporting));
  if (reporting !== undefined && (tcpReportingMs === undefined || tcpReportingMs <= 0))
    throw new Error(`istio.stats: tcp_reporting_duration ${String(reporting)} is not a positive duration`);
  return {
    ...(tcpReportingMs !== undefined ? { tcpReportingMs } : {}),
    metrics: list.map((m) => ({
      name: typeof m['name'] === 'string' ? m['name'] : '',
      drop: m['drop'] === true,
      tagsToRemove: Array.isArray(m['tagsToRemove'] ?? m['tags_to_remove'])
        ? ((m['tagsToRemove'] ?? m['tags_to_remove']) as unknown[]).map(String)
        : [],
      dimensions:
        m['dimensions'] && typeof m['dimensions'] === 'object'
          ? Object.fromEntries(Object.entries(m['dimensions'] as Json).map(([k, v]) => [k, String(v)]))
          : {},
    })),
  };
}

/** Throws on a value expression skein-proxy cannot evaluate (the update is then NACKed). */
export function checkPolicy(p: MetricsPolicy): void {
  for (const m of p.metrics)
    for (const [tag, expr] of Object.entries(m.dimensions)) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(tag))
        throw new Error(`istio.stats: tag "${tag}" is not a label name`);
      if (!parseExpression(expr)) throw new Error(`istio.stats: tag ${tag}: unsupported expression ${expr}`);
    }
}

/** What a metric's labels become under a policy; undefined when the metric is dropped. */
export function applyPolicy(
  policy: MetricsPolicy | undefined,
  metric: string,
  labels: Readonly<Record<string, string>>,
  attrs: Attributes,
): Record<string, string> | undefined {
  if (!policy) return { ...labels };
  const short = metric.replace(/^istio_/, '');
  const out: Record<string, string> = { ...labels };
  for (const m of policy.metrics) {
    if (m.name !== '' && m.name !== short) continue;
    if (m.drop) return undefined;
    for (const t of m.tagsToRemove) delete out[t];
    for (const [tag, expr] of Object.entries(m.dimensions)) out[tag] = evaluate(expr, attrs);
  }
  return out;
}

/**
 * True when every tag expression of the policy reads only what is fixed for a request's series
 * (literals, standard labels, `response.code`, `destination.port`, `xds.cluster_name`), so the labels
 * it yields can be reused for every request with the same labels and cluster; false when one reads
 * the request itself (headers, host, method, path, scheme, protocol).
 */
export function policyIsPerSeries(policy: MetricsPolicy | undefined): boolean {
  if (!policy) return true;
  return policy.metrics.every((m) => Object.values(m.dimensions).every(readsOnlySeries));
}

function readsOnlySeries(src: string): boolean {
  const e = parseExpression(src);
  if (!e || e.kind === 'literal') return true;
  if (e.kind === 'header') return false;
  return !e.path.startsWith('request.');
}

/** Tag names a policy may add (for the metric's label set). */
export function addedTags(policy: MetricsPolicy | undefined): string[] {
  return [...new Set((policy?.metrics ?? []).flatMap((m) => Object.keys(m.dimensions)))];
}

/** The attributes an expression may read. */
export interface Attributes {
  readonly info?: StreamInfo | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly cluster?: string | undefined;
  readonly destinationPort?: number | undefined;
}

type Expr =
  | { kind: 'literal'; value: string }
  | { kind: 'path'; path: string }
  | { kind: 'header'; scope: 'request' | 'response'; name: string };

/**
 * The expressions skein-proxy evaluates: string literals, `request.{host,method,path,url_path,
 * scheme,protocol,headers['x']}`, `response.{code,headers['x']}`, `destination.port`,
 * `xds.cluster_name`, any standard label by name (`destination_service`), and `string(...)`.
 */
function parseExpression(src: string): Expr | undefined {
  let s = src.trim();
  const wrapped = /^string\((.*)\)$/.exec(s);
  if (wrapped) s = (wrapped[1] ?? '').trim();
  const lit = /^'([^']*)'$|^"([^"]*)"$/.exec(s);
  if (lit) return { kind: 'literal', value: lit[1] ?? lit[2] ?? '' };
  const header = /^(request|response)\.headers\[\s*['"]([^'"]+)['"]\s*\]$/.exec(s);
  if (header)
    return {
      kind: 'header',
      scope: header[1] as 'request' | 'response',
      name: (header[2] ?? '').toLowerCase(),
    };
  if (PATHS.has(s) || /^[a-z_]+$/.test(s)) return { kind: 'path', path: s };
  return undefined;
}

const PATHS = new Set([
  'request.host',
  'request.method',
  'request.path',
  'request.url_path',
  'request.scheme',
  'request.protocol',
  'response.code',
  'destination.port',
  'xds.cluster_name',
]);

const cache = new Map<string, Expr | undefined>();

export function evaluate(src: string, a: Attributes): string {
  let e = cache.get(src);
  if (!cache.has(src)) {
    e = parseExpression(src);
    cache.set(src, e);
  }
  if (!e) return 'unknown';
  const info = a.info;
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'header': {
      const h = e.scope === 'request' ? info?.requestHeaders[e.name] : info?.responseHeaders[e.name];
      return h ?? 'unknown';
    }
    case 'path':
      switch (e.path) {
        case 'request.host':
          return info?.authority || 'unknown';
        case 'request.method':
          return info?.method || 'unknown';
        case 'request.path':
          return info?.path || 'unknown';
        case 'request.url_path':
          return info?.path.split('?')[0] || 'unknown';
        case 'request.scheme':
          return info?.requestHeaders['x-forwarded-proto'] ?? (info ? 'http' : 'unknown');
        case 'request.protocol':
          return info?.protocol ?? 'unknown';
        case 'response.code':
          return info ? String(info.responseCode) : 'unknown';
        case 'destination.port':
          return a.destinationPort !== undefined ? String(a.destinationPort) : 'unknown';
        case 'xds.cluster_name':
          return a.cluster ?? info?.clusterName ?? 'unknown';
        default:
          return a.labels[e.path] ?? 'unknown';
      }
  }
}

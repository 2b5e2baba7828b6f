// Telemetry v1 `metrics`: the Prometheus metrics a proxy reports and their tags — the root
// namespace's Telemetry, then the namespace's, then the workload's, each override applied in
// order (`match.metric` / `match.mode`, `disabled`, `tagOverrides` REMOVE / UPSERT with a value
// expression) — folded into one stats configuration per direction: the `istio.stats` filter
// (typed `stats.PluginConfig`, as Istio sends it) before the router / tcp_proxy.
import type { MeshConfig } from '../model/mesh-config.js';
import type { HttpFilterJson, NetworkFilterJson } from './security.js';
import { duration, durationSeconds } from './envoy.js';

export type Mode = 'CLIENT' | 'SERVER';

interface MetricsOverride {
  readonly match?:
    { readonly metric?: string; readonly customMetric?: string; readonly mode?: string } | undefined;
  readonly disabled?: boolean | undefined;
  readonly tagOverrides?:
    Readonly<Record<string, { readonly operation?: string; readonly value?: string }>> | undefined;
}

export interface MetricsEntry {
  readonly providers?: readonly { readonly name?: string | undefined }[] | undefined;
  readonly overrides?: readonly MetricsOverride[] | undefined;
  /** How often open TCP connections report (Istio's tcp_reporting_duration; default 5 s). */
  readonly reportingInterval?: string | undefined;
}

/** Istio's metric enum → the metric's name without the `istio_` prefix. */
export const METRIC_NAMES: Readonly<Record<string, string>> = {
  REQUEST_COUNT: 'requests_total',
  REQUEST_DURATION: 'request_duration_milliseconds',
  REQUEST_SIZE: 'request_bytes',
  RESPONSE_SIZE: 'response_bytes',
  TCP_OPENED_CONNECTIONS: 'tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'tcp_connections_closed_total',
  TCP_SENT_BYTES: 'tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'tcp_received_bytes_total',
  GRPC_REQUEST_MESSAGES: 'request_messages_total',
  GRPC_RESPONSE_MESSAGES: 'response_messages_total',
};

/** One metric's effective overrides (Istio's stats.PluginConfig MetricConfig fields). */
export interface MetricConfig {
  readonly name: string;
  readonly drop?: boolean;
  readonly tagsToRemove?: readonly string[];
  readonly dimensions?: Readonly<Record<string, string>>;
}

export interface MetricsPlan {
  readonly metrics: readonly MetricConfig[];
  /** proto JSON Duration, when a Telemetry sets `reportingInterval`. */
  readonly tcpReportingDuration?: string | undefined;
}

interface State {
  disabled: boolean;
  remove: Set<string>;
  upsert: Map<string, string>;
}

const applies = (mode: string | undefined, m: Mode): boolean =>
  !mode || mode === 'CLIENT_AND_SERVER' || mode === m;

function prometheusEnabled(mesh: MeshConfig, names: readonly string[]): boolean {
  return names.some(
    (n) => n === 'prometheus' || mesh.extensionProviders.some((p) => p.name === n && p.prometheus),
  );
}

/**
 * The stats configuration for one direction, or undefined when nothing differs from Istio's
 * defaults (every standard metric with its standard tags). `layers` are the Telemetry `metrics`
 * lists, lowest precedence first.
 */
export function metricsPlan(
  mesh: MeshConfig,
  layers: readonly (readonly MetricsEntry[])[],
  mode: Mode,
): MetricsPlan | undefined {
  const state = new Map<string, State>(
    Object.values(METRIC_NAMES).map((n) => [n, { disabled: false, remove: new Set(), upsert: new Map() }]),
  );
  let providers = mesh.defaultProviders.metrics ?? ['prometheus'];
  let reporting: string | undefined;
  for (const layer of layers)
    for (const entry of layer) {
      const seconds = entry.reportingInterval ? durationSeconds(entry.reportingInterval) : undefined;
      if (seconds !== undefined && seconds > 0) reporting = duration(entry.reportingInterval ?? '');
      const names = entry.providers?.map((p) => p.name ?? '').filter((n) => n !== '');
      if (names && names.length > 0) providers = names;
      for (const o of entry.overrides ?? []) {
        if (!applies(o.match?.mode, mode)) continue;
        const metric = o.match?.metric ?? (o.match?.customMetric ? undefined : 'ALL_METRICS');
        const targets =
          metric === 'ALL_METRICS'
            ? [...state.values()]
            : [state.get(METRIC_NAMES[metric ?? ''] ?? o.match?.customMetric ?? '')].filter(
                (s): s is State => s !== undefined,
              );
        for (const s of targets) {
          if (o.disabled !== undefined) s.disabled = o.disabled;
          for (const [tag, t] of Object.entries(o.tagOverrides ?? {})) {
            if (t.operation === 'REMOVE') {
              s.upsert.delete(tag);
              s.remove.add(tag);
            } else if (t.value !== undefined) {
              s.remove.delete(tag);
              s.upsert.set(tag, t.value);
            }
          }
        }
      }
    }
  const off = !prometheusEnabled(mesh, providers);
  const metrics: MetricConfig[] = [];
  for (const [name, s] of state) {
    if (off || s.disabled) metrics.push({ name, drop: true });
    else if (s.remove.size > 0 || s.upsert.size > 0)
      metrics.push({
        name,
        ...(s.remove.size > 0 ? { tagsToRemove: [...s.remove].sort() } : {}),
        ...(s.upsert.size > 0
          ? { dimensions: Object.fromEntries([...s.upsert].sort(([a], [b]) => (a < b ? -1 : 1))) }
          : {}),
      });
  }
  if (metrics.length === 0 && !reporting) return undefined;
  return { metrics, ...(reporting ? { tcpReportingDuration: reporting } : {}) };
}

/** Istio's own typed config for the stats filter, so istio-proxy reads it as skein-proxy does. */
const PLUGIN_CONFIG = 'type.googleapis.com/stats.PluginConfig';
export const STATS_FILTER = 'istio.stats';

const statsConfig = (plan: MetricsPlan) => ({
  '@type': PLUGIN_CONFIG,
  metrics: plan.metrics,
  ...(plan.tcpReportingDuration ? { tcpReportingDuration: plan.tcpReportingDuration } : {}),
});

export function statsHttpFilter(plan: MetricsPlan): HttpFilterJson {
  return { name: STATS_FILTER, typedConfig: statsConfig(plan) } as HttpFilterJson;
}

export function statsNetworkFilter(plan: MetricsPlan): NetworkFilterJson {
  return { name: STATS_FILTER, typedConfig: statsConfig(plan) } as NetworkFilterJson;
}

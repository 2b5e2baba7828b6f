// Telemetry v1: the access logging and tracing a proxy's HTTP connection managers get — the root
// namespace's Telemetry (mesh-wide), overridden by its namespace's, overridden by one selecting
// the workload — on top of the mesh config (accessLogFile, enableTracing, extensionProviders).
// `match.mode` restricts an entry to client (outbound) or server (inbound) traffic. Metrics
// overrides are folded in telemetry-metrics.ts.
import { labelsMatch } from '../model/hosts.js';
import type { ConfigObject } from '../model/istio-types.js';
import type { ExtensionProvider, MeshConfig } from '../model/mesh-config.js';
import type { TranslateContext } from './context.js';
import { metricsPlan, type MetricsEntry, type MetricsPlan } from './telemetry-metrics.js';
import { accessLogFilterOf, type LogFilterJson } from './access-log-filter.js';

type Mode = 'CLIENT' | 'SERVER';
interface ProviderRef {
  readonly name?: string | undefined;
}
interface Entry {
  readonly match?: { readonly mode?: string | undefined } | undefined;
  readonly filter?: { readonly expression?: string | undefined } | undefined;
  readonly providers?: readonly ProviderRef[] | undefined;
  readonly disabled?: boolean | undefined;
  readonly randomSamplingPercentage?: number | undefined;
  readonly disableSpanReporting?: boolean | undefined;
  readonly customTags?:
    | Readonly<
        Record<
          string,
          {
            literal?: { value: string };
            environment?: { name: string; defaultValue?: string };
            header?: { name: string; defaultValue?: string };
          }
        >
      >
    | undefined;
}
interface TelemetrySpec {
  readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> | undefined } | undefined;
  readonly accessLogging?: readonly Entry[] | undefined;
  readonly tracing?: readonly Entry[] | undefined;
  readonly metrics?: readonly MetricsEntry[] | undefined;
}

export interface AccessLogSink {
  readonly path: string;
  /** Envoy AccessLogFilter from the entry's `filter.expression`; absent: every request. */
  readonly filter?: LogFilterJson | undefined;
}

export interface AccessLogPlan {
  /** Files to write (one per provider and entry); empty = logging disabled. */
  readonly sinks: readonly AccessLogSink[];
}

export interface TracingPlan {
  readonly provider: ExtensionProvider | undefined;
  readonly sampling: number;
  readonly customTags: Entry['customTags'];
}

export interface TelemetryPlan {
  readonly accessLog: AccessLogPlan | undefined;
  readonly tracing: TracingPlan | undefined;
  /** Metric overrides (Telemetry `metrics`); undefined: Istio's standard metrics unchanged. */
  readonly metrics?: MetricsPlan | undefined;
}

const applies = (e: Entry, mode: Mode): boolean =>
  !e.match?.mode || e.match.mode === 'CLIENT_AND_SERVER' || e.match.mode === mode;

/** Root-namespace, namespace and workload Telemetry objects for a proxy, lowest precedence first. */
function layers(ctx: TranslateContext): TelemetrySpec[] {
  const all = (ctx.snapshot.byKind.get('Telemetry') ?? []) as readonly ConfigObject[];
  const ns = (o: ConfigObject) => o.metadata.namespace ?? 'default';
  const spec = (o: ConfigObject) => (o.spec ?? {}) as TelemetrySpec;
  const root = all.filter((o) => ns(o) === ctx.snapshot.mesh.rootNamespace && !spec(o).selector);
  const own = all.filter(
    (o) => ns(o) === ctx.proxy.namespace && ns(o) !== ctx.snapshot.mesh.rootNamespace && !spec(o).selector,
  );
  const workload = all.filter(
    (o) =>
      ns(o) === ctx.proxy.namespace &&
      spec(o).selector?.matchLabels &&
      labelsMatch(spec(o).selector?.matchLabels, ctx.proxy.labels),
  );
  return [...root, ...own, ...workload].map(spec);
}

function provider(mesh: MeshConfig, name: string | undefined): ExtensionProvider | undefined {
  return mesh.extensionProviders.find((p) => p.name === name);
}

export function telemetryPlan(ctx: TranslateContext, mode: Mode): TelemetryPlan {
  const mesh = ctx.snapshot.mesh;
  let accessLog: AccessLogPlan | undefined = mesh.accessLogFile
    ? { sinks: [{ path: mesh.accessLogFile }] }
    : undefined;
  let tracing: TracingPlan | undefined = mesh.enableTracing
    ? {
        provider: provider(mesh, mesh.defaultProviders.tracing?.[0]),
        sampling: mesh.defaultConfig.tracing?.sampling ?? 1,
        customTags: undefined,
      }
    : undefined;
  for (const layer of layers(ctx)) {
    const logs = (layer.accessLogging ?? []).filter((e) => applies(e, mode));
    if (logs.length > 0) {
      const sinks: AccessLogSink[] = [];
      for (const e of logs) {
        if (e.disabled) continue;
        // An expression outside the translatable subset logs every request (skeinctl analyze says so).
        const t = e.filter?.expression ? accessLogFilterOf(e.filter.expression) : undefined;
        const filter = t && 'filter' in t ? t.filter : undefined;
        const names = e.providers?.length
          ? e.providers.map((p) => p.name)
          : (mesh.defaultProviders.accessLogging ?? ['envoy']);
        for (const n of names) {
          const p = provider(mesh, n);
          const path = p?.envoyFileAccessLog
            ? (p.envoyFileAccessLog.path ?? '/dev/stdout')
            : n === 'envoy'
              ? '/dev/stdout'
              : undefined;
          if (path) sinks.push({ path, ...(filter ? { filter } : {}) });
        }
      }
      accessLog = { sinks };
    }
    const traces = (layer.tracing ?? []).filter((e) => applies(e, mode));
    for (const e of traces) {
      const name = e.providers?.[0]?.name ?? tracing?.provider?.name ?? mesh.defaultProviders.tracing?.[0];
      tracing = e.disableSpanReporting
        ? undefined
        : {
            provider: provider(mesh, name),
            sampling:
              e.randomSamplingPercentage ?? tracing?.sampling ?? mesh.defaultConfig.tracing?.sampling ?? 1,
            customTags: e.customTags ?? tracing?.customTags,
          };
    }
  }
  const metrics = metricsPlan(
    mesh,
    layers(ctx).map((l) => l.metrics ?? []),
    mode,
  );
  return { accessLog, tracing, ...(metrics ? { metrics } : {}) };
}

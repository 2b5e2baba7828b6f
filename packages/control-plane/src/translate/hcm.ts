// The HTTP connection manager every HTTP listener uses: fault and CORS filters (configured per
// route), contributed filters (security), the router, access logging and tracing from the mesh
// config.
import type { httpConnectionManagerV3, routeV3 } from '@skein/api-types';
import type { MeshConfig } from '../model/mesh-config.js';
import { ADS_CONFIG_SOURCE, FilterName, T, typed } from './envoy.js';
import type { HttpFilterJson, NetworkFilterJson } from './security.js';
import type { AccessLogSink, TelemetryPlan, TracingPlan } from './telemetry.js';
import { statsHttpFilter } from './telemetry-metrics.js';

type HcmJson = httpConnectionManagerV3.HttpConnectionManagerJson;

export interface HcmOptions {
  readonly statPrefix: string;
  readonly routeName?: string | undefined;
  readonly routeConfig?: routeV3.RouteConfigurationJson | undefined;
  readonly extraFilters?: readonly HttpFilterJson[] | undefined;
  readonly mesh: MeshConfig;
  /** Proxyless gRPC: only filters gRPC clients implement. */
  readonly grpc?: boolean | undefined;
  /** Telemetry v1 access logging and tracing; default: the mesh config's. */
  readonly telemetry?: TelemetryPlan | undefined;
}

const ZIPKIN = 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig';
const OTEL = 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig';

const clusterFor = (service: string, port: number): string => `outbound|${port}||${service}`;

function tracingConfig(t: TracingPlan): Record<string, unknown> {
  const out: Record<string, unknown> = { randomSampling: { value: t.sampling } };
  const p = t.provider;
  if (p?.zipkin)
    out['provider'] = {
      name: 'envoy.tracers.zipkin',
      typedConfig: typed(ZIPKIN, {
        collectorCluster: clusterFor(p.zipkin.service, p.zipkin.port),
        collectorEndpoint: '/api/v2/spans',
        collectorEndpointVersion: 'HTTP_JSON',
        traceId128bit: true,
      }),
    };
  else if (p?.opentelemetry)
    out['provider'] = {
      name: 'envoy.tracers.opentelemetry',
      typedConfig: typed(OTEL, {
        grpcService: {
          envoyGrpc: { clusterName: clusterFor(p.opentelemetry.service, p.opentelemetry.port) },
        },
      }),
    };
  const tags = Object.entries(t.customTags ?? {}).map(([tag, v]) =>
    v.literal
      ? { tag, literal: { value: v.literal.value } }
      : v.environment
        ? { tag, environment: { ...v.environment } }
        : { tag, requestHeader: { ...v.header } },
  );
  if (tags.length > 0) out['customTags'] = tags;
  return out;
}

/** File access logs, in the mesh config's format and encoding, for HCMs and tcp_proxy alike. */
export function fileLogs(sinks: readonly AccessLogSink[], mesh: MeshConfig): HcmJson['accessLog'] {
  return sinks.map(({ path, filter }) => ({
    name: 'envoy.access_loggers.file',
    ...(filter ? { filter } : {}),
    typedConfig: typed(T.fileAccessLog, {
      path,
      logFormat:
        mesh.accessLogEncoding === 'JSON'
          ? {
              jsonFormat: {
                start_time: '%START_TIME%',
                method: '%REQ(:METHOD)%',
                path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
                response_code: '%RESPONSE_CODE%',
                response_flags: '%RESPONSE_FLAGS%',
                duration: '%DURATION%',
                upstream_cluster: '%UPSTREAM_CLUSTER%',
                authority: '%REQ(:AUTHORITY)%',
              },
            }
          : { textFormatSource: { inlineString: mesh.accessLogFormat || DEFAULT_TEXT_FORMAT } },
    }),
  }));
}

const DEFAULT_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" ' +
  '"%UPSTREAM_HOST%" %UPSTREAM_CLUSTER%\n';

export function accessLogs(mesh: MeshConfig): HcmJson['accessLog'] {
  return mesh.accessLogFile ? fileLogs([{ path: mesh.accessLogFile }], mesh) : undefined;
}

export function httpConnectionManager(o: HcmOptions): HcmJson {
  const filters: HttpFilterJson[] = [{ name: FilterName.fault, typedConfig: typed(T.fault, {}) }];
  if (!o.grpc) filters.push({ name: FilterName.cors, typedConfig: typed(T.cors, {}) });
  filters.push(...(o.extraFilters ?? []));
  if (!o.grpc && o.telemetry?.metrics) filters.push(statsHttpFilter(o.telemetry.metrics));
  filters.push({ name: FilterName.router, typedConfig: typed(T.router, {}) });
  const hcm: Record<string, unknown> = {
    statPrefix: o.statPrefix,
    ...(o.routeName !== undefined
      ? { rds: { configSource: ADS_CONFIG_SOURCE, routeConfigName: o.routeName } }
      : {}),
    ...(o.routeConfig ? { routeConfig: o.routeConfig } : {}),
    httpFilters: filters,
  };
  if (!o.grpc) {
    hcm['useRemoteAddress'] = false;
    if (o.telemetry) {
      const sinks = o.telemetry.accessLog?.sinks ?? [];
      if (sinks.length > 0) hcm['accessLog'] = fileLogs(sinks, o.mesh);
      if (o.telemetry.tracing) hcm['tracing'] = tracingConfig(o.telemetry.tracing);
    } else {
      const logs = accessLogs(o.mesh);
      if (logs) hcm['accessLog'] = logs;
      if (o.mesh.enableTracing)
        hcm['tracing'] = { randomSampling: { value: o.mesh.defaultConfig.tracing?.sampling ?? 1 } };
    }
  }
  return hcm as HcmJson;
}

export function hcmFilter(o: HcmOptions): NetworkFilterJson {
  return { name: FilterName.hcm, typedConfig: typed(T.hcm, httpConnectionManager(o)) };
}

export function tcpProxyFilter(
  statPrefix: string,
  cluster: string,
  weighted?: readonly { name: string; weight: number }[],
): NetworkFilterJson {
  const body =
    weighted && weighted.length > 1
      ? {
          statPrefix,
          weightedClusters: { clusters: weighted.map((w) => ({ name: w.name, weight: w.weight })) },
        }
      : { statPrefix, cluster };
  return { name: FilterName.tcpProxy, typedConfig: typed(T.tcpProxy, body) };
}

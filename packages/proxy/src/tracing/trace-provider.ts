// The HCM's tracing provider (`tracing.provider` or the bootstrap's `tracing.http`) turned into a
// tracer: envoy.tracers.opentelemetry (OTLP/gRPC to the provider's gRPC cluster) or
// envoy.tracers.zipkin (Zipkin v2 JSON POSTed through `collector_cluster`).
import type { Tracer } from '@opentelemetry/api';
import type { Tracing } from './tracer.js';
import type { TraceProviderJson } from '../http-connection-manager/proxy-context.js';
import type { ClusterManager } from '../cluster/cluster-manager.js';

const OTEL = 'envoy.config.trace.v3.OpenTelemetryConfig';
const ZIPKIN = 'envoy.config.trace.v3.ZipkinConfig';

interface ZipkinJson {
  collectorCluster?: string;
  collectorEndpoint?: string;
  collectorHostname?: string;
  collectorEndpointVersion?: string;
  traceId128bit?: boolean;
}

/** Throws for a provider skein-proxy cannot export to. */
export function checkTraceProvider(provider: TraceProviderJson): void {
  const type = provider.typedConfig?.['@type'] ?? '';
  if (type.endsWith(OTEL)) return;
  if (type.endsWith(ZIPKIN)) {
    const z = provider.typedConfig as unknown as ZipkinJson;
    const v = z.collectorEndpointVersion ?? 'HTTP_JSON';
    if (v !== 'HTTP_JSON')
      throw new Error(`zipkin collector_endpoint_version ${v} is not supported (HTTP_JSON only)`);
    if (!z.collectorCluster) throw new Error('zipkin tracing needs collector_cluster');
    return;
  }
  throw new Error(`tracing provider ${provider.name ?? type} is not supported (OpenTelemetry or Zipkin)`);
}

/** The tracer for a request under this provider, or undefined when its cluster is missing. */
export function providerTracer(
  tracing: Tracing,
  provider: TraceProviderJson,
  clusters: ClusterManager,
  defaultServiceName: string,
): Tracer | undefined {
  const cfg = provider.typedConfig ?? {};
  if ((cfg['@type'] ?? '').endsWith(ZIPKIN)) {
    const z = cfg as unknown as ZipkinJson;
    const cluster = z.collectorCluster ?? '';
    if (!clusters.get(cluster)) return undefined;
    const endpoint = z.collectorEndpoint ?? '/api/v2/spans';
    const target = {
      cluster,
      endpoint,
      hostname: z.collectorHostname || undefined,
      traceId128: z.traceId128bit === true,
    };
    return tracing.zipkinTracer(
      `${cluster}|${endpoint}|${target.hostname ?? ''}|${target.traceId128}`,
      defaultServiceName,
      target,
      (name) => clusters.get(name)?.pick({ now: Date.now() }),
    );
  }
  const cluster = clusters.get(cfg.grpcService?.envoyGrpc?.clusterName ?? '');
  const host = cluster?.hosts[0];
  if (!host) return undefined;
  return tracing.tracer(host.key, cfg.serviceName ?? defaultServiceName);
}

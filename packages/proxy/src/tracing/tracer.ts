// Tracing (envoy.tracers.opentelemetry, envoy.tracers.zipkin): a span per request on each proxy,
// W3C traceparent and B3 propagation (extracted from either, injected as both), sampling by the
// HCM's random_sampling (or the caller's sampled flag). Built on the OpenTelemetry SDK with a
// per-proxy tracer provider and no global registration (several proxies share one process in
// tests; @opentelemetry/sdk-node registers globals). The SDK (otel-sdk.ts) is loaded by `load()`,
// which the proxy awaits before applying listeners that trace: an idle proxy without tracing
// never loads it.
import type { Span, Tracer } from '@opentelemetry/api';
import type * as OtelSdkModule from './otel-sdk.js';
import type { CollectorHost, ZipkinTarget } from './zipkin-exporter.js';

type OtelSdk = typeof OtelSdkModule;

/** @opentelemetry/api's SpanStatusCode values (the enum lives in the lazily loaded API). */
export const SpanStatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface RequestSpan {
  span: Span;
  /** Writes traceparent and B3 headers for the upstream request. */
  inject(headers: Record<string, string | string[]>): void;
}

/** One exporter and tracer per (collector endpoint, service name), shared by every HCM of a proxy. */
export class Tracing {
  private sdk: OtelSdk | undefined;
  private loading: Promise<void> | undefined;
  private readonly providers = new Map<string, OtelSdkModule.TracerHandle>();

  /** Loads the OpenTelemetry SDK (once). */
  load(): Promise<void> {
    this.loading ??= import('./otel-sdk.js').then((m) => {
      this.sdk = m;
    });
    return this.loading;
  }

  get loaded(): boolean {
    return this.sdk !== undefined;
  }

  /** The OTLP/gRPC tracer for a collector; undefined until the SDK is loaded. */
  tracer(endpoint: string, serviceName: string): Tracer | undefined {
    return this.tracerWith(`otlp|${endpoint}`, serviceName, (sdk) => sdk.otlpExporter(endpoint));
  }

  /** The Zipkin tracer for a collector cluster; undefined until the SDK is loaded. */
  zipkinTracer(
    key: string,
    serviceName: string,
    target: ZipkinTarget,
    collector: CollectorHost,
  ): Tracer | undefined {
    return this.tracerWith(`zipkin|${key}`, serviceName, (sdk) =>
      sdk.zipkinExporter(target, serviceName, collector),
    );
  }

  private tracerWith(
    exporterKey: string,
    serviceName: string,
    exporter: (sdk: OtelSdk) => Parameters<OtelSdk['createTracer']>[1],
  ): Tracer | undefined {
    const sdk = this.sdk;
    if (!sdk) {
      // A configuration path that did not preload: trace from the next request on.
      void this.load();
      return undefined;
    }
    const key = `${exporterKey}|${serviceName}`;
    let p = this.providers.get(key);
    if (!p) {
      p = sdk.createTracer(serviceName, exporter(sdk));
      this.providers.set(key, p);
    }
    return p.tracer;
  }

  /** Starts a span for a request, child of the caller's context when its headers carry one. */
  startSpan(
    tracer: Tracer,
    name: string,
    kind: 'server' | 'client',
    headers: Record<string, string>,
    sampleRate: number,
    random: () => number = Math.random,
  ): RequestSpan | undefined {
    return this.sdk?.startSpan(tracer, name, kind, headers, sampleRate, random);
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.provider.shutdown().catch(() => {})));
    this.providers.clear();
  }
}

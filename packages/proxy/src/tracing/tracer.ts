// Tracing (envoy.tracers.opentelemetry): a span per request on each proxy, W3C traceparent and B3
// propagation (extracted from either, injected as both), sampling by the HCM's random_sampling
// (or the caller's sampled flag), export over OTLP/gRPC to the cluster the provider names. Built
// on the OpenTelemetry SDK's tracer provider with a per-proxy instance and no global registration
// (several proxies share one process in tests; @opentelemetry/sdk-node registers globals).
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';

export const propagator = new CompositePropagator({
  propagators: [
    new W3CTraceContextPropagator(),
    new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
    new B3Propagator(),
  ],
});

const getter: TextMapGetter<Record<string, string>> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k.toLowerCase()],
};
const setter: TextMapSetter<Record<string, string | string[]>> = {
  set: (c, k, v) => {
    c[k.toLowerCase()] = v;
  },
};

export interface RequestSpan {
  span: Span;
  /** Writes traceparent and B3 headers for the upstream request. */
  inject(headers: Record<string, string | string[]>): void;
}

/** One exporter and tracer per (collector endpoint, service name), shared by every HCM of a proxy. */
export class Tracing {
  private readonly providers = new Map<string, { provider: BasicTracerProvider; tracer: Tracer }>();

  tracer(endpoint: string, serviceName: string): Tracer {
    return this.tracerWith(
      `otlp|${endpoint}`,
      serviceName,
      () => new OTLPTraceExporter({ url: `http://${endpoint}` }),
    );
  }

  /** A tracer exporting through `exporter()` (made once per key and service name). */
  tracerWith(exporterKey: string, serviceName: string, exporter: () => SpanExporter): Tracer {
    const key = `${exporterKey}|${serviceName}`;
    let p = this.providers.get(key);
    if (!p) {
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': serviceName }),
        spanProcessors: [new BatchSpanProcessor(exporter(), { scheduledDelayMillis: 200 })],
      });
      p = { provider, tracer: provider.getTracer('skein-proxy') };
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
    const parent: Context = propagator.extract(ROOT_CONTEXT, headers, getter);
    const parentSpan = trace.getSpanContext(parent);
    const sampled = parentSpan ? (parentSpan.traceFlags & 1) === 1 : random() * 100 < sampleRate;
    if (!sampled) return undefined;
    const span = tracer.startSpan(
      name,
      { kind: kind === 'server' ? SpanKind.SERVER : SpanKind.CLIENT },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    return {
      span,
      inject: (h) => propagator.inject(ctx, h, setter),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.provider.shutdown().catch(() => {})));
    this.providers.clear();
  }
}

export { SpanStatusCode };

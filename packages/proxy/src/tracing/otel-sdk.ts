// The OpenTelemetry SDK side of tracing, loaded only when a configuration enables tracing
// (tracer.ts imports this module on demand): propagators, tracer providers with batching span
// processors, and the OTLP/gRPC and Zipkin exporters.
import {
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ZipkinExporter, type CollectorHost, type ZipkinTarget } from './zipkin-exporter.js';
import type { RequestSpan } from './tracer.js';

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

export interface TracerHandle {
  provider: BasicTracerProvider;
  tracer: Tracer;
}

/** A tracer provider exporting through `exporter` in batches, with `service.name` set. */
export function createTracer(serviceName: string, exporter: SpanExporter): TracerHandle {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 200 })],
  });
  return { provider, tracer: provider.getTracer('skein-proxy') };
}

export function otlpExporter(endpoint: string): SpanExporter {
  return new OTLPTraceExporter({ url: `http://${endpoint}` });
}

export function zipkinExporter(
  target: ZipkinTarget,
  serviceName: string,
  collector: CollectorHost,
): SpanExporter {
  return new ZipkinExporter(target, serviceName, collector);
}

/** Starts a span for a request, child of the caller's context when its headers carry one. */
export function startSpan(
  tracer: Tracer,
  name: string,
  kind: 'server' | 'client',
  headers: Record<string, string>,
  sampleRate: number,
  random: () => number,
): RequestSpan | undefined {
  const parent = propagator.extract(ROOT_CONTEXT, headers, getter);
  const parentSpan = trace.getSpanContext(parent);
  const sampled = parentSpan ? (parentSpan.traceFlags & 1) === 1 : random() * 100 < sampleRate;
  if (!sampled) return undefined;
  const span = tracer.startSpan(
    name,
    { kind: kind === 'server' ? SpanKind.SERVER : SpanKind.CLIENT },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  return { span, inject: (h) => propagator.inject(ctx, h, setter) };
}

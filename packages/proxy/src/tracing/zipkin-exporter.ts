// envoy.tracers.zipkin's transport: finished spans as Zipkin v2 JSON (HTTP_JSON), POSTed to
// `collector_endpoint` on a host of `collector_cluster` with `collector_hostname` (default: the
// cluster name) as Host — through the cluster, as Envoy sends them. An OpenTelemetry SpanExporter.
import http from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface ZipkinTarget {
  cluster: string;
  endpoint: string;
  hostname: string | undefined;
  /** Envoy's trace_id_128bit: without it, the trace id is cut to its low 64 bits. */
  traceId128: boolean;
}

/** Where the collector cluster currently sends (its load balancer's pick). */
export type CollectorHost = (cluster: string) => { address: string; port: number } | undefined;

const KIND: Partial<Record<SpanKind, string>> = {
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

/** One span in Zipkin's v2 JSON model. */
export function zipkinSpan(
  s: ReadableSpan,
  serviceName: string,
  traceId128: boolean,
): Record<string, unknown> {
  const ctx = s.spanContext();
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.attributes)) if (v !== undefined) tags[k] = String(v);
  if (s.status.code === 2) tags['error'] = s.status.message ?? 'true';
  const start = hrTimeToMicroseconds(s.startTime);
  return {
    traceId: traceId128 ? ctx.traceId : ctx.traceId.slice(16),
    id: ctx.spanId,
    ...(s.parentSpanContext ? { parentId: s.parentSpanContext.spanId } : {}),
    name: s.name,
    ...(KIND[s.kind] ? { kind: KIND[s.kind] } : {}),
    timestamp: start,
    duration: Math.max(1, hrTimeToMicroseconds(s.endTime) - start),
    localEndpoint: { serviceName },
    tags,
  };
}

export class ZipkinExporter implements SpanExporter {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly target: ZipkinTarget,
    private readonly serviceName: string,
    private readonly collector: CollectorHost,
  ) {}

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    const host = this.collector(this.target.cluster);
    if (!host) return done({ code: ExportResultCode.FAILED, error: new Error('no collector host') });
    const body = JSON.stringify(spans.map((s) => zipkinSpan(s, this.serviceName, this.target.traceId128)));
    const p = new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: host.address,
          port: host.port,
          method: 'POST',
          path: this.target.endpoint,
          agent: false,
          headers: {
            host: this.target.hostname ?? this.target.cluster,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          timeout: 5000,
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
            done(ok ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED });
            resolve();
          });
        },
      );
      req.once('error', (error) => {
        done({ code: ExportResultCode.FAILED, error });
        resolve();
      });
      req.once('timeout', () => req.destroy(new Error('zipkin collector timeout')));
      req.end(body);
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}

// Tracing through two proxies into a real OTLP receiver (Jaeger): each proxy exports a span per
// request, the client sidecar's span (CLIENT) and the server sidecar's (SERVER) join one trace,
// and the app receives W3C traceparent and B3 headers of that trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { hasGo, startJaeger, type Jaeger } from './helpers/jaeger.js';

let jaeger: Jaeger;
let app: Echo;
let server: RunningProxy;
let client: RunningProxy;
let clientPort: number;

function tracing(service: string): Record<string, unknown> {
  return {
    tracing: {
      random_sampling: { value: 100 },
      provider: {
        name: 'envoy.tracers.opentelemetry',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
          grpc_service: { envoy_grpc: { cluster_name: 'otel' } },
          service_name: service,
        },
      },
    },
  };
}

// Skipped only without the Go toolchain (Jaeger is built from the Go module proxy).
describe.skipIf(!hasGo())('tracing into Jaeger', { timeout: 900_000 }, () => {
  beforeAll(async () => {
    jaeger = await startJaeger();
    app = await startEcho('app');
    const otel = staticCluster('otel', [jaeger.otlpPort], {
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    });
    const rc = (cluster: string) => ({
      name: 'r',
      virtual_hosts: [
        { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] },
      ],
    });
    server = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            httpListener('inbound', rc('app'), tracing('server-sidecar'), { traffic_direction: 'INBOUND' }),
          ],
          clusters: [staticCluster('app', [app.port]), otel],
        },
      },
      { logLevel: 'off' },
    );
    client = await startProxy(
      {
        admin: ADMIN,
        static_resources: {
          listeners: [
            httpListener('outbound', rc('server'), tracing('client-sidecar'), {
              traffic_direction: 'OUTBOUND',
            }),
          ],
          clusters: [staticCluster('server', [server.listenerAddress('inbound')?.port ?? 0]), otel],
        },
      },
      { logLevel: 'off' },
    );
    clientPort = client.listenerAddress('outbound')?.port ?? 0;
  }, 900_000);

  afterAll(async () => {
    await client?.stop();
    await server?.stop();
    await app?.close();
    await jaeger?.stop();
  });

  it('joins the client-side and server-side spans in one trace and propagates it to the app', async () => {
    expect((await get(clientPort, '/traced', { host: 'server.default.svc.cluster.local' })).status).toBe(200);
    const seen = app.requests[app.requests.length - 1]?.headers ?? {};
    const traceparent = String(seen['traceparent']);
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent.split('-')[1];
    expect(seen['x-b3-traceid']).toBe(traceId);
    expect(seen['x-b3-sampled']).toBe('1');
    // Flush both proxies' exporters, then read the trace back from Jaeger.
    await client.tracing.close();
    await server.tracing.close();
    let trace;
    for (let i = 0; i < 100 && !trace; i++) {
      trace = (await jaeger.traces('client-sidecar')).find((t) => t.traceID === traceId);
      if (!trace) await new Promise((r) => setTimeout(r, 100));
    }
    expect(trace).toBeDefined();
    const services = trace!.spans.map((s) => trace!.processes[s.processID]?.serviceName).sort();
    expect(services).toEqual(['client-sidecar', 'server-sidecar']);
    const clientSpan = trace!.spans.find(
      (s) => trace!.processes[s.processID]?.serviceName === 'client-sidecar',
    )!;
    const serverSpan = trace!.spans.find(
      (s) => trace!.processes[s.processID]?.serviceName === 'server-sidecar',
    )!;
    expect(serverSpan.references[0]?.spanID).toBe(clientSpan.spanID);
    const kind = (s: typeof clientSpan) => s.tags.find((t) => t.key === 'span.kind')?.value;
    expect(kind(clientSpan)).toBe('client');
    expect(kind(serverSpan)).toBe('server');
    expect(serverSpan.tags.find((t) => t.key === 'http.status_code')?.value).toBe(200);
  });
});

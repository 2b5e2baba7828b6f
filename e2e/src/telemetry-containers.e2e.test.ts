/**
 * Container-level telemetry, no cluster: Prometheus (Debian's build, our image) scrapes the
 * echo image over a Docker network, and Jaeger (built from the Go module proxy) accepts an
 * OTLP/HTTP span and serves it back through its query API. Needs `npm run images`.
 */
import { GenericContainer, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, startNetwork, startPrometheus, stopAll, type Stoppable } from './harness/containers.js';
import { images } from './harness/images.js';
import { waitFor } from './harness/wait.js';
import { callEcho } from './echo/client.js';

describe('telemetry images under testcontainers', () => {
  const started: Stoppable[] = [];
  let network: StartedNetwork;
  let echo: StartedTestContainer;

  beforeAll(async () => {
    network = await startNetwork();
    started.push(network);
    echo = await startEcho(images.echo, network, 'echo');
    started.push(echo);
  });
  afterAll(() => stopAll(started));

  it('Prometheus scrapes the echo container', async () => {
    const prom = await startPrometheus(
      images.prometheus(),
      network,
      [
        'global: { scrape_interval: 1s, scrape_timeout: 900ms }',
        'scrape_configs:',
        '  - job_name: echo',
        '    static_configs: [{ targets: ["echo:8080"] }]',
        '',
      ].join('\n'),
    );
    started.push(prom);
    const grpc = await callEcho({
      url: `grpc://${echo.getHost()}:${echo.getMappedPort(7070)}`,
      body: 'count me',
    });
    expect(grpc.code).toBe('OK');
    const base = `http://${prom.getHost()}:${prom.getMappedPort(9090)}`;
    const value = await waitFor(
      "the echo container's gRPC count in Prometheus",
      async () => {
        const q = encodeURIComponent('echo_requests_total{job="echo",protocol="grpc"}');
        const res = (await (await fetch(`${base}/api/v1/query?query=${q}`)).json()) as {
          data: { result: Array<{ value: [number, string] }> };
        };
        const v = Number(res.data.result[0]?.value[1] ?? 0);
        if (v < 1) throw new Error(`result ${JSON.stringify(res.data.result)}`);
        return v;
      },
      { timeoutMs: 60_000 },
    );
    expect(value).toBe(1);
  });

  it('Jaeger accepts an OTLP/HTTP span and serves it through its query API', async () => {
    const jaeger = await new GenericContainer(images.jaeger())
      .withNetwork(network)
      .withExposedPorts(4318, 16686)
      .withWaitStrategy(Wait.forListeningPorts())
      .start();
    started.push(jaeger);
    const traceId = '5b8efff798038103d269b633813fc60c';
    const span = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'skein-e2e' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: 'eee19b7ec3c1b174',
                  name: 'e2e-span',
                  kind: 2,
                  startTimeUnixNano: String(BigInt(Date.now() - 1000) * 1_000_000n),
                  endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                },
              ],
            },
          ],
        },
      ],
    };
    const otlp = `http://${jaeger.getHost()}:${jaeger.getMappedPort(4318)}/v1/traces`;
    const query = `http://${jaeger.getHost()}:${jaeger.getMappedPort(16686)}/api/traces/${traceId}`;
    const found = await waitFor(
      'the span in Jaeger',
      async () => {
        const post = await fetch(otlp, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(span),
        });
        if (!post.ok) throw new Error(`OTLP POST ${post.status}: ${await post.text()}`);
        const res = await fetch(query);
        if (!res.ok) throw new Error(`query ${res.status}`);
        const body = (await res.json()) as { data: Array<{ spans: Array<{ operationName: string }> }> };
        return body.data[0]?.spans.find((s) => s.operationName === 'e2e-span');
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
    expect(found?.operationName).toBe('e2e-span');
  });
});

// Telemetry v1 through the translator: mesh-wide, namespace and workload Telemetry layered over
// the mesh config, client vs server mode, file access logs and zipkin tracing with custom tags.
import { describe, expect, it } from 'vitest';
import { meshConfigFrom } from '../model/mesh-config.js';
import { generate, proxy, snapshotFromYaml } from '../../test/support/translate.js';

const meshResult = meshConfigFrom({
  extensionProviders: [
    { name: 'zipkin', zipkin: { service: 'zipkin.istio-system.svc.cluster.local', port: 9411 } },
    { name: 'file', envoyFileAccessLog: { path: '/var/log/access.log' } },
  ],
});
if (!meshResult.ok) throw new Error(meshResult.problems.join());

const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: shop }
spec:
  hosts: [web.shop.svc.cluster.local]
  addresses: [10.96.5.1]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: 10.5.0.1, labels: { app: web } }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  accessLogging: [{ providers: [{ name: envoy }] }]
  tracing: [{ providers: [{ name: zipkin }], randomSamplingPercentage: 10 }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  accessLogging: [{ providers: [{ name: file }], match: { mode: SERVER } }]
  tracing: [{ randomSamplingPercentage: 100, customTags: { team: { literal: { value: shop } } } }]
`;

const hcms = (gen: ReturnType<typeof generate>, direction: string) =>
  gen.listeners
    .filter((l) => l['trafficDirection'] === direction)
    .flatMap(
      (l) =>
        JSON.stringify(l).match(/"accessLog":\[[^\]]*\]|"tracing":\{.*?"randomSampling":\{"value":\d+\}/g) ??
        [],
    );

describe('Telemetry v1', () => {
  const snap = snapshotFromYaml(yaml, meshResult.config);

  it('applies the mesh-wide Telemetry to every proxy: stdout access log, zipkin at 10%', () => {
    const gen = generate(snap, proxy({ ip: '10.5.9.9', namespace: 'shop', labels: { app: 'client' } }));
    const text = JSON.stringify(gen.listeners.filter((l) => l['trafficDirection'] === 'OUTBOUND'));
    expect(text).toContain('"path":"/dev/stdout"');
    expect(text).toContain('"randomSampling":{"value":10}');
    expect(text).toContain('"collectorCluster":"outbound|9411||zipkin.istio-system.svc.cluster.local"');
  });

  it('lets a workload Telemetry override it, per mode', () => {
    const gen = generate(snap, proxy({ ip: '10.5.0.1', namespace: 'shop', labels: { app: 'web' } }));
    const inbound = JSON.stringify(gen.listeners.filter((l) => l['trafficDirection'] === 'INBOUND'));
    const outbound = JSON.stringify(gen.listeners.filter((l) => l['trafficDirection'] === 'OUTBOUND'));
    expect(inbound).toContain('"path":"/var/log/access.log"');
    expect(outbound).toContain('"path":"/dev/stdout"'); // SERVER-only override leaves client logging as it was
    expect(inbound).toContain('"randomSampling":{"value":100}');
    expect(inbound).toContain('"tag":"team","literal":{"value":"shop"}');
    expect(hcms(gen, 'INBOUND').length).toBeGreaterThan(0);
  });

  it('turns a filter expression into an Envoy access log filter, and logs TCP connections too', () => {
    const filtered = `${yaml}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db, namespace: shop }
spec:
  hosts: [db.shop.svc.cluster.local]
  addresses: [10.96.5.2]
  resolution: STATIC
  ports: [{ number: 5432, name: tcp-postgres }]
  endpoints: [{ address: 10.5.0.2 }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: errors-only, namespace: shop }
spec:
  accessLogging: [{ providers: [{ name: envoy }], filter: { expression: 'response.code >= 500' } }]
`;
    const gen = generate(
      snapshotFromYaml(filtered, meshResult.config),
      proxy({ ip: '10.5.9.9', namespace: 'shop', labels: { app: 'client' } }),
    );
    const outbound = gen.listeners.filter((l) => l['trafficDirection'] === 'OUTBOUND');
    const text = JSON.stringify(outbound);
    expect(text).toContain(
      '"filter":{"statusCodeFilter":{"comparison":{"op":"GE","value":{"defaultValue":500,"runtimeKey":"access_log.statusCodeFilter"}}}}',
    );
    const tcp = outbound.find((l) => l['name'] === '10.96.5.2_5432');
    expect(JSON.stringify(tcp)).toMatch(
      /"name":"envoy.filters.network.tcp_proxy".*"accessLog":\[\{"name":"envoy.access_loggers.file"/,
    );
  });

  it('logs everything when the expression is outside the translatable subset', () => {
    const odd = `${yaml}---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: odd, namespace: shop }
spec:
  accessLogging: [{ filter: { expression: 'connection.mtls' } }]
`;
    const gen = generate(
      snapshotFromYaml(odd, meshResult.config),
      proxy({ ip: '10.5.9.9', namespace: 'shop', labels: { app: 'client' } }),
    );
    const text = JSON.stringify(gen.listeners.filter((l) => l['trafficDirection'] === 'OUTBOUND'));
    expect(text).toContain('"path":"/dev/stdout"');
    expect(text).not.toContain('"filter":{');
  });
});

// Telemetry metrics overrides end to end: skeind in directory mode translates Telemetry
// `metrics` (mesh-wide in the root namespace, and per workload) into the `istio.stats` filters of
// two real skein-proxy sidecars on loopback; their Prometheus endpoints (15090) then show a
// disabled metric absent, a removed tag absent and an added tag present, and a Telemetry edit
// takes effect on a running proxy.
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listening, useLoopbackMesh } from './support/mesh-fixture.js';
import { metricLines } from './support/prometheus.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';
import { httpStatus } from './support/traffic.js';
import { hostOf, twoPodsYaml, type TwoPods } from './support/two-pods.js';

const NS = 'demo';
const base = loopbackBase();
const PODS: TwoPods = {
  namespace: NS,
  name: 'web',
  port: { number: 9080, name: 'http', protocol: 'HTTP' },
  appPort: 8080,
  serverIp: `${base}.11`,
  clientIp: `${base}.20`,
};
const get = (path: string): Promise<number> =>
  httpStatus({ ip: PODS.clientIp, port: PODS.port.number, host: hostOf(PODS) }, path);

/** Mesh-wide: request sizes off, requests_total without source_principal and with the path. */
const MESH_WIDE = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  metrics:
    - providers: [{ name: prometheus }]
      overrides:
        - match: { metric: REQUEST_SIZE }
          disabled: true
        - match: { metric: REQUEST_COUNT }
          tagOverrides:
            source_principal: { operation: REMOVE }
            request_path: { value: request.url_path }
`;

/** The web workload: no server-side request count at all. */
const WEB_ONLY = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: web, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: web } }
  metrics:
    - overrides:
        - match: { metric: REQUEST_COUNT, mode: SERVER }
          disabled: true
`;

describe.skipIf(!proxyBuilt)(
  `Telemetry metrics overrides through real sidecars${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const f = useLoopbackMesh('skeind-metrics-', {
      before: async ({ write }) => {
        write('services.yaml', twoPodsYaml(PODS));
        write('telemetry.yaml', `${MESH_WIDE}---\n${WEB_ONLY}`);
        return [
          await listening(
            createServer((_req, res) => res.end('hello\n')),
            PODS.serverIp,
            PODS.appPort,
          ),
        ];
      },
      mesh: {
        namespace: NS,
        pods: [
          ['web', PODS.serverIp],
          ['client', PODS.clientIp],
        ],
      },
    });
    const { write } = f;

    it('mesh-wide: a disabled metric is absent, a removed tag absent, an added tag present', async () => {
      const [, client] = f.sidecars as [Sidecar, Sidecar];
      await until('a request through the client sidecar', async () => (await get('/books/1?x=y')) === 200);
      const text = await client.prometheus();
      const requests = metricLines(text, 'istio_requests_total');
      expect(requests.length).toBeGreaterThan(0);
      for (const l of requests) {
        expect(l).toContain('request_path="/books/1"');
        expect(l).not.toContain('source_principal=');
        expect(l).toContain('reporter="source"');
      }
      expect(metricLines(text, 'istio_request_bytes_count')).toEqual([]);
      expect(metricLines(text, 'istio_response_bytes_count').length).toBeGreaterThan(0);
    });

    it('per workload: the server reports no request count but keeps its other metrics', async () => {
      const [server] = f.sidecars as [Sidecar, Sidecar];
      expect(await get('/')).toBe(200);
      const text = await server.prometheus();
      expect(metricLines(text, 'istio_requests_total')).toEqual([]);
      expect(metricLines(text, 'istio_request_duration_milliseconds_count').length).toBeGreaterThan(0);
      expect(metricLines(text, 'istio_request_bytes_count')).toEqual([]); // mesh-wide still applies
    });

    it('a Telemetry edit reaches the running proxies', async () => {
      const [server] = f.sidecars as [Sidecar, Sidecar];
      write('telemetry.yaml', MESH_WIDE); // the workload override is gone
      await until('server counts requests again', async () => {
        await get('/again');
        return metricLines(await server.prometheus(), 'istio_requests_total').some((l) =>
          l.includes('request_path="/again"'),
        );
      });
    });
  },
);

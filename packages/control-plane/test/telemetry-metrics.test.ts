// Telemetry metrics overrides end to end: skeind in directory mode translates Telemetry
// `metrics` (mesh-wide in the root namespace, and per workload) into the `istio.stats` filters of
// two real skein-proxy sidecars on loopback; their Prometheus endpoints (15090) then show a
// disabled metric absent, a removed tag absent and an added tag present, and a Telemetry edit
// takes effect on a running proxy.
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackMesh, type LoopbackMesh } from './support/loopback-mesh.js';
import { testConfigDir } from './support/config-dir.js';
import { metricLines } from './support/prometheus.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';

const NS = 'demo';
const HOST = `web.${NS}.svc.cluster.local`;
const PORT = 9080;
const APP_PORT = 8080;
const base = loopbackBase();
const serverIp = `${base}.11`;
const clientIp = `${base}.20`;

const SERVICES = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: ${NS} }
spec:
  hosts: [${HOST}]
  ports: [{ number: ${PORT}, name: http, protocol: HTTP }]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: { labels: { app: web } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: web, namespace: ${NS} }
spec: { address: ${serverIp}, serviceAccount: web, labels: { app: web } }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: web, namespace: ${NS} }
spec:
  workloadSelector: { labels: { app: web } }
  ingress:
    - port: { number: ${PORT}, protocol: HTTP, name: http }
      bind: ${serverIp}
      captureMode: NONE
      defaultEndpoint: 0.0.0.0:${APP_PORT}
  egress:
    - hosts: [./${HOST}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: client, namespace: ${NS} }
spec:
  workloadSelector: { labels: { app: client } }
  egress:
    - port: { number: ${PORT}, protocol: HTTP, name: http }
      bind: ${clientIp}
      captureMode: NONE
      hosts: [./${HOST}]
`;

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

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: clientIp, port: PORT, path, headers: { host: HOST }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!proxyBuilt)(
  `Telemetry metrics overrides through real sidecars${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const { dir, configDir, write, remove } = testConfigDir('skeind-metrics-');
    let mesh: LoopbackMesh | undefined;
    let app: Server;
    const sidecars: Sidecar[] = [];

    beforeAll(async () => {
      write('services.yaml', SERVICES);
      write('telemetry.yaml', `${MESH_WIDE}---\n${WEB_ONLY}`);
      app = createServer((_req, res) => res.end('hello\n'));
      await new Promise<void>((r) => app.listen(APP_PORT, serverIp, r));
      mesh = await startLoopbackMesh({
        configDir,
        dir,
        namespace: NS,
        pods: [
          ['web', serverIp],
          ['client', clientIp],
        ],
      });
      sidecars.push(...mesh.sidecars);
    }, 150_000);

    afterAll(async () => {
      await mesh?.stop();
      await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
      remove();
    });

    it('mesh-wide: a disabled metric is absent, a removed tag absent, an added tag present', async () => {
      const [, client] = sidecars as [Sidecar, Sidecar];
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
      const [server] = sidecars as [Sidecar, Sidecar];
      expect(await get('/')).toBe(200);
      const text = await server.prometheus();
      expect(metricLines(text, 'istio_requests_total')).toEqual([]);
      expect(metricLines(text, 'istio_request_duration_milliseconds_count').length).toBeGreaterThan(0);
      expect(metricLines(text, 'istio_request_bytes_count')).toEqual([]); // mesh-wide still applies
    });

    it('a Telemetry edit reaches the running proxies', async () => {
      const [server] = sidecars as [Sidecar, Sidecar];
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

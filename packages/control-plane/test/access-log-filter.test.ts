// Telemetry access-log filters end to end: skeind in directory mode translates a mesh-wide
// Telemetry (file provider from the mesh config, `filter.expression: response.code >= 500`) into
// an Envoy access-log filter on a real skein-proxy sidecar on loopback, whose log then holds the
// failed requests only; a Telemetry edit removing the filter makes it log every request again.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meshConfigFrom } from '../src/model/mesh-config.js';
import { listening, useLoopbackMesh } from './support/mesh-fixture.js';
import { loopbackBase, proxyBuilt, until } from './support/sidecar-proxy.js';
import { httpStatus } from './support/traffic.js';

const NS = 'demo';
const HOST = `web.${NS}.svc.cluster.local`;
const PORT = 9080;
const APP_PORT = 8080;
const base = loopbackBase();
const serverIp = `${base}.31`;
const clientIp = `${base}.32`;

const SERVICES = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: ${NS} }
spec:
  hosts: [${HOST}]
  addresses: [${serverIp}]
  ports: [{ number: ${PORT}, name: http, protocol: HTTP, targetPort: ${APP_PORT} }]
  location: MESH_EXTERNAL
  resolution: STATIC
  endpoints: [{ address: ${serverIp} }]
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

const telemetry = (filter: string) => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  accessLogging:
    - providers: [{ name: file }]
${filter ? `      filter: { expression: '${filter}' }\n` : ''}`;

const get = (path: string): Promise<number> => httpStatus({ ip: clientIp, port: PORT, host: HOST }, path);

describe.skipIf(!proxyBuilt)(
  `Telemetry access-log filter through a real sidecar${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const f = useLoopbackMesh('skeind-alog-', {
      before: async ({ write }) => {
        write('services.yaml', SERVICES);
        write('telemetry.yaml', telemetry('response.code >= 500'));
        const app = createServer((req, res) => {
          res.statusCode = req.url?.startsWith('/fail') ? 503 : 200;
          res.end('x');
        });
        return [await listening(app, serverIp, APP_PORT)];
      },
      mesh: ({ dir }) => {
        const mc = meshConfigFrom({
          accessLogFormat: '%RESPONSE_CODE% %REQ(:PATH)%\n',
          extensionProviders: [{ name: 'file', envoyFileAccessLog: { path: join(dir, 'access.log') } }],
        });
        if (!mc.ok) throw new Error(mc.problems.join());
        return { namespace: NS, pods: [['client', clientIp]], meshConfig: mc.config };
      },
    });
    const { write } = f;
    const logged = (): string[] => {
      try {
        return readFileSync(join(f.dir, 'access.log'), 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };

    it('logs only the requests the expression keeps', async () => {
      await until('a request through the client sidecar', async () => (await get('/ok/0')) === 200);
      expect(await get('/fail/1')).toBe(503);
      expect(await get('/ok/2')).toBe(200);
      expect(await get('/fail/3')).toBe(503);
      await until('two failures logged', async () => logged().length >= 2);
      // Two worker threads append to the file on their own: the order of lines is not fixed.
      expect(logged().sort()).toEqual(['503 /fail/1', '503 /fail/3']);
    });

    it('logs every request once the filter is removed', async () => {
      write('telemetry.yaml', telemetry(''));
      await until('a 200 in the log', async () => {
        await get('/ok/again');
        return logged().includes('200 /ok/again');
      });
    });
  },
);

// Protocol sniffing through real proxies: skeind in directory mode and two real skein-proxy
// sidecars (interception mode NONE, loopback addresses of this run). The service port has no
// protocol (name `legacy`, no appProtocol), so both sidecars sniff: an HTTP request through the
// client sidecar is handled as HTTP on both sides (Istio request metrics, reporter source and
// destination) and a raw TCP exchange on the same port is proxied as TCP (TCP metrics).
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackMesh, type LoopbackMesh } from './support/loopback-mesh.js';
import { testConfigDir } from './support/config-dir.js';
import { metricSum } from './support/prometheus.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';

const NS = 'demo';
const HOST = `legacy.${NS}.svc.cluster.local`;
const PORT = 9080;
const APP_PORT = 8080;
const base = loopbackBase();
const serverIp = `${base}.11`;
const clientIp = `${base}.20`;

const CONFIG = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: legacy, namespace: ${NS} }
spec:
  hosts: [${HOST}]
  ports: [{ number: ${PORT}, name: legacy }]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: { labels: { app: legacy } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: legacy, namespace: ${NS} }
spec: { address: ${serverIp}, serviceAccount: legacy, labels: { app: legacy } }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: legacy, namespace: ${NS} }
spec:
  workloadSelector: { labels: { app: legacy } }
  ingress:
    - port: { number: ${PORT}, name: legacy }
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
    - port: { number: ${PORT}, name: legacy }
      bind: ${clientIp}
      captureMode: NONE
      hosts: [./${HOST}]
`;

/** The app: answers an HTTP/1 request line with 200, echoes anything else (a toy TCP protocol). */
function startApp(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (first) => {
      if (/^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/.test(first.toString('latin1'))) {
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nhello http\n',
        );
        return;
      }
      socket.write(first);
      socket.pipe(socket);
    });
  });
  return new Promise((r) => server.listen(APP_PORT, serverIp, () => r(server)));
}

function httpGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: clientIp, port: PORT, path, headers: { host: HOST }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Writes a line that is not HTTP and reads the echo. */
function tcpEcho(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(PORT, clientIp, () => s.write(line));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= line.length) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

describe.skipIf(!proxyBuilt)(
  `protocol sniffing through real sidecars${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const { dir, configDir, write, remove } = testConfigDir('skeind-sniff-');
    let mesh: LoopbackMesh | undefined;
    let app: Server;
    const sidecars: Sidecar[] = [];

    beforeAll(async () => {
      write('mesh.yaml', CONFIG);
      app = await startApp();
      mesh = await startLoopbackMesh({
        configDir,
        dir,
        namespace: NS,
        pods: [
          ['legacy', serverIp],
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

    it('an HTTP request on the unknown-protocol port is proxied as HTTP by both sidecars', async () => {
      const [server, client] = sidecars as [Sidecar, Sidecar];
      await until('client listener', async () => (await httpGet('/')).status === 200);
      const res = await httpGet('/hello');
      expect(res).toEqual({ status: 200, body: 'hello http\n' });
      expect(
        metricSum(await client.prometheus(), 'istio_requests_total', {
          reporter: 'source',
          response_code: '200',
        }),
      ).toBeGreaterThanOrEqual(2);
      expect(
        metricSum(await server.prometheus(), 'istio_requests_total', {
          reporter: 'destination',
          response_code: '200',
        }),
      ).toBeGreaterThanOrEqual(2);
    });

    it('a non-HTTP exchange on the same port is proxied as TCP', async () => {
      const [server] = sidecars as [Sidecar, Sidecar];
      const before = metricSum(await server.prometheus(), 'istio_tcp_connections_opened_total', {});
      expect(await tcpEcho('PING sniffed\n')).toBe('PING sniffed\n');
      await until(
        'server TCP metric',
        async () => metricSum(await server.prometheus(), 'istio_tcp_connections_opened_total', {}) > before,
      );
    });
  },
);

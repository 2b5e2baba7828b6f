// Protocol sniffing over mesh mTLS through real proxies: skeind with its CA and two sidecars under
// skein-agent (loopback addresses of this run). The service port has no protocol, the server
// endpoint is injected (`security.istio.io/tlsMode: istio`), so the client sidecar originates mesh
// mTLS (auto mTLS) and offers Istio's `istio-http/1.1` ALPN for HTTP: the server sidecar takes its
// HTTP chain — HTTP metrics with `connection_security_policy="mutual_tls"` and an HTTP-path
// AuthorizationPolicy — while a non-HTTP exchange on the same port still takes the TCP chain.
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
spec: { address: ${serverIp}, serviceAccount: legacy, labels: { app: legacy, security.istio.io/tlsMode: istio } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: ${NS} }
spec: { mtls: { mode: STRICT } }
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

// Written by the policy test: a DENY with HTTP attributes also closes TCP connections on the
// port (Istio's fail-closed rule for TCP chains), so the TCP test runs before it.
const DENY_ADMIN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: ${NS} }
spec:
  selector: { matchLabels: { app: legacy } }
  action: DENY
  rules:
    - from: [{ source: { principals: [cluster.local/ns/${NS}/sa/client] } }]
      to: [{ operation: { paths: [/admin*] } }]
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

function httpGet(path: string): Promise<number> {
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

/** Writes a line that is not HTTP and reads the echo. */
function tcpEcho(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(PORT, clientIp, () => s.write(line));
    s.setTimeout(10_000, () => s.destroy(new Error(`no echo (got ${JSON.stringify(got)})`)));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= line.length) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed (got ${JSON.stringify(got)})`)));
  });
}

describe.skipIf(!proxyBuilt)(
  `protocol sniffing over mesh mTLS${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const { dir, configDir, write, remove } = testConfigDir('skeind-sniff-mtls-');
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
        mtls: true,
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

    it('an HTTP request on the sniffed port over mTLS is HTTP at the server: istio_requests_total, mutual_tls', async () => {
      const [server] = sidecars as [Sidecar, Sidecar];
      await until('a request through both sidecars', async () => (await httpGet('/')) === 200);
      expect(await httpGet('/hello')).toBe(200);
      const m = await server.prometheus();
      expect(
        metricSum(m, 'istio_requests_total', {
          reporter: 'destination',
          response_code: '200',
          connection_security_policy: 'mutual_tls',
          source_principal: `spiffe://cluster.local/ns/${NS}/sa/client`,
        }),
        m,
      ).toBeGreaterThanOrEqual(2);
    });

    it('a non-HTTP exchange on the same port still takes the TCP chain over mTLS', async () => {
      const [server] = sidecars as [Sidecar, Sidecar];
      const opened = async (): Promise<number> =>
        metricSum(await server.prometheus(), 'istio_tcp_connections_opened_total', {
          reporter: 'destination',
          connection_security_policy: 'mutual_tls',
        });
      const before = await opened();
      expect(await tcpEcho('PING sniffed\n')).toBe('PING sniffed\n');
      await until('server TCP metric', async () => (await opened()) > before);
    });

    it('an HTTP-path AuthorizationPolicy applies on the sniffed port over mTLS', async () => {
      const [server] = sidecars as [Sidecar, Sidecar];
      write('deny.yaml', DENY_ADMIN);
      await until('the DENY policy', async () => (await httpGet('/admin/users')) === 403);
      expect(await httpGet('/public')).toBe(200);
      expect(
        metricSum(await server.prometheus(), 'istio_requests_total', {
          reporter: 'destination',
          response_code: '403',
          connection_security_policy: 'mutual_tls',
        }),
      ).toBeGreaterThanOrEqual(1);
    });
  },
);

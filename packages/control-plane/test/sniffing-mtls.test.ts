// Protocol sniffing over mesh mTLS through real proxies: skeind with its CA and two sidecars under
// skein-agent (loopback addresses of this run). The service port has no protocol, the server
// endpoint is injected (`security.istio.io/tlsMode: istio`), so the client sidecar originates mesh
// mTLS (auto mTLS) and offers Istio's `istio-http/1.1` ALPN for HTTP: the server sidecar takes its
// HTTP chain — HTTP metrics with `connection_security_policy="mutual_tls"` and an HTTP-path
// AuthorizationPolicy — while a non-HTTP exchange on the same port still takes the TCP chain.
import { describe, expect, it } from 'vitest';
import { useLoopbackMesh } from './support/mesh-fixture.js';
import { metricSum } from './support/prometheus.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';
import { httpOrEchoApp, httpStatus, tcpEcho } from './support/traffic.js';
import { hostOf, twoPodsYaml, type TwoPods } from './support/two-pods.js';

const NS = 'demo';
const base = loopbackBase();
const PODS: TwoPods = {
  namespace: NS,
  name: 'legacy',
  port: { number: 9080, name: 'legacy' },
  appPort: 8080,
  serverIp: `${base}.11`,
  clientIp: `${base}.20`,
  injected: true,
  strict: true,
};
const through = { ip: PODS.clientIp, port: PODS.port.number, host: hostOf(PODS) };
const httpGet = (path: string): Promise<number> => httpStatus(through, path);

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

describe.skipIf(!proxyBuilt)(
  `protocol sniffing over mesh mTLS${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const f = useLoopbackMesh('skeind-sniff-mtls-', {
      before: async ({ write }) => {
        write('mesh.yaml', twoPodsYaml(PODS));
        return [await httpOrEchoApp(PODS.serverIp, PODS.appPort)];
      },
      mesh: {
        namespace: NS,
        mtls: true,
        pods: [
          ['legacy', PODS.serverIp],
          ['client', PODS.clientIp],
        ],
      },
    });
    const { write } = f;

    it('an HTTP request on the sniffed port over mTLS is HTTP at the server: istio_requests_total, mutual_tls', async () => {
      const [server] = f.sidecars as [Sidecar, Sidecar];
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
      const [server] = f.sidecars as [Sidecar, Sidecar];
      const opened = async (): Promise<number> =>
        metricSum(await server.prometheus(), 'istio_tcp_connections_opened_total', {
          reporter: 'destination',
          connection_security_policy: 'mutual_tls',
        });
      const before = await opened();
      expect(await tcpEcho(through, 'PING sniffed\n')).toBe('PING sniffed\n');
      await until('server TCP metric', async () => (await opened()) > before);
    });

    it('an HTTP-path AuthorizationPolicy applies on the sniffed port over mTLS', async () => {
      const [server] = f.sidecars as [Sidecar, Sidecar];
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

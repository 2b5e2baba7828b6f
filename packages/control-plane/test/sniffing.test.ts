// Protocol sniffing through real proxies: skeind in directory mode and two real skein-proxy
// sidecars (interception mode NONE, loopback addresses of this run). The service port has no
// protocol (name `legacy`, no appProtocol), so both sidecars sniff: an HTTP request through the
// client sidecar is handled as HTTP on both sides (Istio request metrics, reporter source and
// destination) and a raw TCP exchange on the same port is proxied as TCP (TCP metrics).
import { describe, expect, it } from 'vitest';
import { useLoopbackMesh } from './support/mesh-fixture.js';
import { metricSum } from './support/prometheus.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';
import { httpGet, httpOrEchoApp, tcpEcho } from './support/traffic.js';
import { hostOf, twoPodsYaml, type TwoPods } from './support/two-pods.js';

const base = loopbackBase();
const PODS: TwoPods = {
  namespace: 'demo',
  name: 'legacy',
  port: { number: 9080, name: 'legacy' },
  appPort: 8080,
  serverIp: `${base}.11`,
  clientIp: `${base}.20`,
};
const through = { ip: PODS.clientIp, port: PODS.port.number, host: hostOf(PODS) };

describe.skipIf(!proxyBuilt)(
  `protocol sniffing through real sidecars${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const f = useLoopbackMesh('skeind-sniff-', {
      before: async ({ write }) => {
        write('mesh.yaml', twoPodsYaml(PODS));
        return [await httpOrEchoApp(PODS.serverIp, PODS.appPort)];
      },
      mesh: {
        namespace: PODS.namespace,
        pods: [
          ['legacy', PODS.serverIp],
          ['client', PODS.clientIp],
        ],
      },
    });

    it('an HTTP request on the unknown-protocol port is proxied as HTTP by both sidecars', async () => {
      const [server, client] = f.sidecars as [Sidecar, Sidecar];
      await until('client listener', async () => (await httpGet(through, '/')).status === 200);
      expect(await httpGet(through, '/hello')).toEqual({ status: 200, body: 'hello http\n' });
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
      const [server] = f.sidecars as [Sidecar, Sidecar];
      const before = metricSum(await server.prometheus(), 'istio_tcp_connections_opened_total', {});
      expect(await tcpEcho(through, 'PING sniffed\n')).toBe('PING sniffed\n');
      await until(
        'server TCP metric',
        async () => metricSum(await server.prometheus(), 'istio_tcp_connections_opened_total', {}) > before,
      );
    });
  },
);

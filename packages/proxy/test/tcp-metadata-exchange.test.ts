// TCP metadata exchange between two sidecars over mesh mTLS (ALPN istio-peer-exchange): bytes
// reach the app untouched, and both proxies' istio_tcp_* metrics name the other workload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, staticCluster } from './helpers/upstreams.js';
import { hasOpenssl, makePki, type TestPki } from './helpers/certs.js';
import { until } from './helpers/until.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';

let pki: TestPki;
let app: net.Server;
const appReceived: Buffer[] = [];
let server: RunningProxy;
let client: RunningProxy;

function tcpListener(
  name: string,
  cluster: string,
  direction: 'INBOUND' | 'OUTBOUND',
  chainExtra: Record<string, unknown> = {},
  listenerExtra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    traffic_direction: direction,
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: { '@type': TCP_PROXY, stat_prefix: name, cluster },
          },
        ],
        ...chainExtra,
      },
    ],
    ...listenerExtra,
  };
}

const meta = (workload: string, sa: string): Record<string, unknown> => ({
  id: `sidecar~127.0.0.1~${workload}.default~default.svc.cluster.local`,
  metadata: { NAMESPACE: 'default', WORKLOAD_NAME: workload, SERVICE_ACCOUNT: sa, LABELS: { app: sa } },
});

const ready = hasOpenssl();

beforeAll(async () => {
  if (!ready) return;
  pki = makePki();
  const serverLeaf = pki.leaf(SERVER_ID);
  const clientLeaf = pki.leaf(CLIENT_ID);
  // The app: a TCP echo that records exactly what it received.
  app = net.createServer((c) => {
    c.on('data', (d: Buffer) => {
      appReceived.push(d);
      c.write(d);
    });
    c.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as net.AddressInfo).port;
  // Server sidecar: TLS inspector + mesh DownstreamTlsContext (ALPN h2/http1.1 as skeind sets it).
  server = await startProxy(
    {
      node: meta('server-v1', 'server'),
      admin: ADMIN,
      static_resources: {
        listeners: [
          tcpListener(
            'inbound',
            'inbound|9000||',
            'INBOUND',
            {
              filter_chain_match: { transport_protocol: 'tls' },
              transport_socket: {
                name: 'envoy.transport_sockets.tls',
                typed_config: {
                  '@type': `${TLS}DownstreamTlsContext`,
                  require_client_certificate: true,
                  common_tls_context: {
                    alpn_protocols: ['h2', 'http/1.1'],
                    tls_certificates: [
                      {
                        certificate_chain: { inline_string: serverLeaf.cert },
                        private_key: { inline_string: serverLeaf.key },
                      },
                    ],
                    validation_context: { trusted_ca: { inline_string: pki.ca } },
                  },
                },
              },
            },
            {
              listener_filters: [
                {
                  name: 'envoy.filters.listener.tls_inspector',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
                  },
                },
              ],
            },
          ),
        ],
        clusters: [staticCluster('inbound|9000||', [appPort])],
      },
    },
    { logLevel: 'off' },
  );
  const serverPort = server.listenerAddress('inbound')?.port ?? 0;
  client = await startProxy(
    {
      node: meta('client-v1', 'client'),
      admin: ADMIN,
      static_resources: {
        listeners: [tcpListener('outbound', 'outbound|9000||db.default.svc.cluster.local', 'OUTBOUND')],
        clusters: [
          staticCluster('outbound|9000||db.default.svc.cluster.local', [serverPort], {
            transport_socket: {
              name: 'envoy.transport_sockets.tls',
              typed_config: {
                '@type': `${TLS}UpstreamTlsContext`,
                sni: 'outbound_.9000_._.db.default.svc.cluster.local',
                common_tls_context: {
                  alpn_protocols: ['istio-peer-exchange', 'istio'],
                  tls_certificates: [
                    {
                      certificate_chain: { inline_string: clientLeaf.cert },
                      private_key: { inline_string: clientLeaf.key },
                    },
                  ],
                  validation_context: {
                    trusted_ca: { inline_string: pki.ca },
                    match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: SERVER_ID } }],
                  },
                },
              },
            },
          }),
        ],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await client?.stop();
  await server?.stop();
  if (app) await new Promise<void>((r) => app.close(() => r()));
  pki?.cleanup();
});

async function prom(p: RunningProxy): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${p.adminAddress?.port}/stats/prometheus`)).text();
  return text.split('\n');
}

describe.skipIf(!ready)('TCP metadata exchange (istio-peer-exchange)', () => {
  it('carries the bytes untouched and names the peer workload on both sides', async () => {
    const sock = net.connect(client.listenerAddress('outbound')?.port ?? 0, '127.0.0.1');
    const echoed: Buffer[] = [];
    sock.on('data', (d: Buffer) => echoed.push(d));
    sock.write('hello over mesh tcp');
    await until('the echo', () => Buffer.concat(echoed).toString() === 'hello over mesh tcp', {
      everyMs: 10,
    });
    expect(Buffer.concat(appReceived).toString()).toBe('hello over mesh tcp');
    sock.end();
    const clientLine = async (): Promise<string | undefined> =>
      (await prom(client)).find((l) => l.startsWith('istio_tcp_connections_opened_total{'));
    const serverLine = async (): Promise<string | undefined> =>
      (await prom(server)).find((l) => l.startsWith('istio_tcp_connections_opened_total{'));
    await until(
      'both opened lines',
      async () => (await clientLine()) !== undefined && (await serverLine()) !== undefined,
    );
    // The client (reporter source) names the server workload; the server names the client.
    const c = (await clientLine()) ?? '';
    expect(c).toContain('reporter="source"');
    expect(c).toContain('source_workload="client-v1"');
    expect(c).toContain('destination_workload="server-v1"');
    const s = (await serverLine()) ?? '';
    expect(s).toContain('reporter="destination"');
    expect(s).toContain('source_workload="client-v1"');
    expect(s).toContain('destination_workload="server-v1"');
    expect(s).toContain(`source_principal="${CLIENT_ID}"`);
    // Closed connections carry the same labels.
    await until("the server's closed line", async () =>
      (await prom(server)).some(
        (l) =>
          l.startsWith('istio_tcp_connections_closed_total{') && l.includes('source_workload="client-v1"'),
      ),
    );
  });
});

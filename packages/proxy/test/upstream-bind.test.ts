// upstream_bind_config: upstream connections leave from the configured source address. Istio
// binds inbound clusters to 127.0.0.6, which its iptables rules let through; without the bind the
// sidecar's call to its own pod IP would be captured again, in a loop.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, staticCluster } from './helpers/upstreams.js';

const BIND = { upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } };
let httpServer: http.Server;
let tcpServer: net.Server;
let proxy: RunningProxy;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  httpServer = http.createServer((req, res) => res.end(req.socket.remoteAddress ?? ''));
  tcpServer = net.createServer((s) => s.end(s.remoteAddress ?? ''));
  const httpPort = await listen(httpServer);
  const tcpPort = await listen(tcpServer);
  const route = (cluster: string) => ({
    name: cluster,
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] },
    ],
  });
  proxy = await startProxy({
    node: { id: 'sidecar~127.0.0.1~bind.default~default.svc.cluster.local', cluster: 'bind' },
    admin: ADMIN,
    static_resources: {
      listeners: [
        httpListener('bound', route('bound')),
        httpListener('plain', route('plain')),
        {
          name: 'tcp',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                    stat_prefix: 'tcp',
                    cluster: 'bound-tcp',
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        staticCluster('bound', [httpPort], BIND),
        staticCluster('plain', [httpPort]),
        staticCluster('bound-tcp', [tcpPort], BIND),
      ],
    },
  });
});

afterAll(async () => {
  await proxy?.stop();
  httpServer?.closeAllConnections();
  await new Promise((r) => httpServer?.close(r));
  await new Promise((r) => tcpServer?.close(r));
});

describe('upstream_bind_config', () => {
  it('connects HTTP upstreams from the source address', async () => {
    expect((await get(proxy.listenerAddress('bound')?.port ?? 0, '/')).text).toBe('127.0.0.6');
    expect((await get(proxy.listenerAddress('plain')?.port ?? 0, '/')).text).toBe('127.0.0.1');
  });

  it('connects tcp_proxy upstreams from the source address', async () => {
    const port = proxy.listenerAddress('tcp')?.port ?? 0;
    const seen = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    expect(seen).toBe('127.0.0.6');
  });
});

// RBAC through a real proxy: the HTTP filter allows or denies requests (403 "RBAC: access
// denied"), and the network filter closes connections its rules deny, using @skein/ca's engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';

const F = 'type.googleapis.com/envoy.extensions.filters.';
let app: Echo;
let tcpEcho: net.Server;
let proxy: RunningProxy;

const rbacHttp = (action: string, policies: Record<string, unknown>) => ({
  name: 'envoy.filters.http.rbac',
  typed_config: { '@type': `${F}http.rbac.v3.RBAC`, rules: { action, policies } },
});

function tcpListener(name: string, allowedCidr: string): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.rbac',
            typed_config: {
              '@type': `${F}network.rbac.v3.RBAC`,
              stat_prefix: `${name}.`,
              rules: {
                action: 'ALLOW',
                policies: {
                  p: {
                    permissions: [{ any: true }],
                    principals: [{ direct_remote_ip: { address_prefix: allowedCidr, prefix_len: 8 } }],
                  },
                },
              },
            },
          },
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: {
              '@type': `${F}network.tcp_proxy.v3.TcpProxy`,
              stat_prefix: name,
              cluster: 'tcp-echo',
            },
          },
        ],
      },
    ],
  };
}

beforeAll(async () => {
  app = await startEcho('app');
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));
  const routes = {
    name: 'r',
    virtual_hosts: [
      { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
    ],
  };
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', routes, {
            http_filters: [
              rbacHttp('DENY', {
                'deny-admin': {
                  permissions: [{ url_path: { path: { prefix: '/admin' } } }],
                  principals: [{ any: true }],
                },
              }),
              rbacHttp('ALLOW', {
                public: {
                  permissions: [{ url_path: { path: { prefix: '/public' } } }],
                  principals: [{ any: true }],
                },
                'by-header': {
                  permissions: [{ any: true }],
                  principals: [{ header: { name: 'x-caller', string_match: { exact: 'trusted' } } }],
                },
              }),
              { name: 'envoy.filters.http.router', typed_config: { '@type': `${F}http.router.v3.Router` } },
            ],
          }),
          tcpListener('tcp-denied', '10.0.0.0'),
          tcpListener('tcp-allowed', '127.0.0.0'),
        ],
        clusters: [
          staticCluster('app', [app.port]),
          staticCluster('tcp-echo', [(tcpEcho.address() as net.AddressInfo).port]),
        ],
      },
    },
    { logLevel: 'off' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  await app?.close();
  await new Promise<void>((r) => tcpEcho.close(() => r()));
});

describe('HTTP RBAC', () => {
  const port = (): number => proxy.listenerAddress('http')?.port ?? 0;

  it('allows what an ALLOW policy matches and denies the rest with 403', async () => {
    expect((await get(port(), '/public/x')).status).toBe(200);
    const denied = await get(port(), '/private');
    expect(denied.status).toBe(403);
    expect(denied.text).toBe('RBAC: access denied');
    expect((await get(port(), '/private', { 'x-caller': 'trusted' })).status).toBe(200);
  });

  it('applies DENY filters before ALLOW ones', async () => {
    expect((await get(port(), '/admin', { 'x-caller': 'trusted' })).status).toBe(403);
    expect(proxy.stats.value('http.http.rbac.denied')).toBeGreaterThanOrEqual(2);
  });
});

describe('network RBAC', () => {
  function roundTrip(port: number): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
        if (got === 'ping') s.end();
      });
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
      s.write('ping');
    });
  }

  it('closes connections its rules deny and passes the allowed ones', async () => {
    expect(await roundTrip(proxy.listenerAddress('tcp-allowed')?.port ?? 0)).toBe('ping');
    expect(await roundTrip(proxy.listenerAddress('tcp-denied')?.port ?? 0)).toBe('');
    expect(proxy.stats.value('tcp-denied.rbac.denied')).toBe(1);
  });
});

// HTTP/2 (h2c), gRPC with trailers, upgrades (WebSocket-style tunnels) and tcp_proxy through the
// proxy, against real servers on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, HCM, httpListener, staticCluster } from './helpers/upstreams.js';

const H2_OPTS = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

// A generic gRPC service with raw byte messages: Echo (unary), Fail (status from the request), Count (server streaming).
const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const service: grpc.ServiceDefinition = {
  echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, ...raw },
  fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, ...raw },
  count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, ...raw },
};

let grpcServer: grpc.Server;
let grpcPort: number;
let failCalls = 0;
let upgradeServer: http.Server;
const upgraded = new Set<net.Socket>();
let tcpEcho: net.Server;
let proxy: RunningProxy;
let port: number;
let tcpPort: number;

beforeAll(async () => {
  grpcServer = new grpc.Server();
  grpcServer.addService(service, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request])),
    fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      failCalls++;
      if (failCalls === 1) cb({ code: grpc.status.UNAVAILABLE, details: 'try again' });
      else cb({ code: grpc.status.PERMISSION_DENIED, details: 'nope' });
    },
    count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 0; i < 5; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
  });
  grpcPort = await new Promise<number>((res, rej) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? rej(e) : res(p),
    ),
  );

  upgradeServer = http.createServer((_req, res) => res.end('plain'));
  upgradeServer.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-path: ${req.url ?? ''}\r\n\r\n`,
    );
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => upgradeServer.listen(0, '127.0.0.1', r));

  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));

  const routes = {
    name: 'r',
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/test.Echo/Fail' },
            route: {
              cluster: 'grpc',
              retry_policy: {
                retry_on: 'unavailable',
                num_retries: 2,
                retry_back_off: { base_interval: '0.001s' },
              },
            },
          },
          { match: { prefix: '/test.Echo/' }, route: { cluster: 'grpc', timeout: '0s' } },
          {
            match: { prefix: '/ws' },
            route: { cluster: 'upgrade', upgrade_configs: [{ upgrade_type: 'websocket' }] },
          },
          { match: { prefix: '/' }, route: { cluster: 'upgrade' } },
        ],
      },
    ],
  };
  proxy = await startProxy(
    {
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener('http', routes),
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
                      cluster: 'tcp-echo',
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [
          staticCluster('grpc', [grpcPort], H2_OPTS),
          staticCluster('upgrade', [(upgradeServer.address() as net.AddressInfo).port]),
          staticCluster('tcp-echo', [(tcpEcho.address() as net.AddressInfo).port]),
        ],
      },
    },
    { logLevel: 'off' },
  );
  port = proxy.listenerAddress('http')?.port ?? 0;
  tcpPort = proxy.listenerAddress('tcp')?.port ?? 0;
  void HCM;
});

afterAll(async () => {
  await proxy?.stop();
  grpcServer?.forceShutdown();
  upgradeServer.closeAllConnections();
  for (const s of upgraded) s.destroy();
  await new Promise<void>((r) => upgradeServer.close(() => r()));
  await new Promise<void>((r) => tcpEcho.close(() => r()));
});

function grpcClient(): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

describe('HTTP/2 and gRPC', () => {
  it('serves h2c requests', async () => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = s.request({ ':path': '/plain' });
      let d = '';
      req.on('data', (c: Buffer) => (d += c.toString()));
      req.on('end', () => resolve(d));
      req.on('error', reject);
      req.end();
    });
    s.close();
    expect(body).toBe('plain');
  });

  it('proxies unary gRPC with trailers', async () => {
    const c = grpcClient();
    const reply = await new Promise<Buffer>((resolve, reject) =>
      c.makeUnaryRequest(
        '/test.Echo/Echo',
        raw.requestSerialize,
        raw.responseDeserialize,
        Buffer.from('hi'),
        (e, r) => (e || !r ? reject(e) : resolve(r)),
      ),
    );
    c.close();
    expect(reply.toString()).toBe('echo:hi');
  });

  it('carries gRPC status in trailers and retries on unavailable', async () => {
    failCalls = 0;
    const c = grpcClient();
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      c.makeUnaryRequest(
        '/test.Echo/Fail',
        raw.requestSerialize,
        raw.responseDeserialize,
        Buffer.from(''),
        (e) => resolve(e as grpc.ServiceError),
      ),
    );
    c.close();
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toBe('nope');
    expect(failCalls).toBe(2);
  });

  it('streams server-streaming responses', async () => {
    const c = grpcClient();
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = c.makeServerStreamRequest(
        '/test.Echo/Count',
        raw.requestSerialize,
        raw.responseDeserialize,
        Buffer.from(''),
      );
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('status', (s: grpc.StatusObject) => (s.code === 0 ? resolve() : reject(new Error(s.details))));
      call.on('error', reject);
    });
    c.close();
    expect(got).toEqual(['0', '1', '2', '3', '4']);
  });
});

describe('upgrades and TCP', () => {
  it('tunnels a WebSocket upgrade when the route allows it', async () => {
    const { socket, headers } = await new Promise<{ socket: net.Socket; headers: http.IncomingHttpHeaders }>(
      (resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          path: '/ws/chat',
          headers: { connection: 'Upgrade', upgrade: 'websocket' },
        });
        req.on('upgrade', (res, socket) => resolve({ socket, headers: res.headers }));
        req.on('response', (r) => reject(new Error(`status ${r.statusCode}`)));
        req.on('error', reject);
        req.end();
      },
    );
    expect(headers['x-path']).toBe('/ws/chat');
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString()));
      socket.write('frame');
    });
    socket.destroy();
    expect(echoed).toBe('echo:frame');
  });

  it('refuses an upgrade the route does not allow', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: '/other',
        headers: { connection: 'Upgrade', upgrade: 'websocket' },
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('response', (r) => resolve(r.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('proxies TCP both ways and counts bytes', async () => {
    const s = net.connect(tcpPort, '127.0.0.1');
    const got = await new Promise<string>((resolve) => {
      let d = '';
      s.on('data', (c: Buffer) => {
        d += c.toString();
        if (d.length >= 10) resolve(d);
      });
      s.write('0123456789');
    });
    s.destroy();
    expect(got).toBe('0123456789');
    expect(proxy.stats.value('cluster.tcp-echo.upstream_cx_tx_bytes_total')).toBe(10);
  });
});

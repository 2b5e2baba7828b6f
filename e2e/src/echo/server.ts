/**
 * The echo app's listeners: HTTP/1.1, cleartext HTTP/2 (h2c, prior knowledge), gRPC and raw
 * TCP, each answering with a report of what it saw (report.ts). The HTTP listeners also serve
 * `/healthz` and a Prometheus `/metrics` page counting requests per protocol.
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { once } from 'node:events';
import { formatReport, peerAddress, type EchoFacts } from './report.js';
import { ECHO_METHOD_PATH, decodeMessage, encodeMessage } from './proto.js';

export interface EchoConfig {
  readonly version: string;
  readonly serviceName: string;
  readonly hostname: string;
  /** 0 picks a free port; a negative port disables that listener. */
  readonly httpPort: number;
  readonly h2cPort: number;
  readonly grpcPort: number;
  readonly tcpPort: number;
  readonly host?: string;
}

export interface EchoServer {
  readonly ports: { http?: number; h2c?: number; grpc?: number; tcp?: number };
  close(): Promise<void>;
}

type Protocol = 'http' | 'h2c' | 'grpc' | 'tcp';

export async function startEcho(config: EchoConfig): Promise<EchoServer> {
  const host = config.host ?? '::';
  const counts: Record<Protocol, number> = { http: 0, h2c: 0, grpc: 0, tcp: 0 };
  const facts = (protocol: string, port: number, peer: string | undefined): EchoFacts => ({
    version: config.version,
    serviceName: config.serviceName,
    hostname: config.hostname,
    protocol,
    port,
    peer: peerAddress(peer),
  });
  const closers: Array<() => Promise<void>> = [];
  const ports: { http?: number; h2c?: number; grpc?: number; tcp?: number } = {};

  const metrics = (): string =>
    [
      '# HELP echo_requests_total Requests the echo app answered, by protocol.',
      '# TYPE echo_requests_total counter',
      ...Object.entries(counts).map(([p, n]) => `echo_requests_total{protocol="${p}"} ${n}`),
      '',
    ].join('\n');

  const handle = (
    protocol: Protocol,
    port: number,
    req: http.IncomingMessage | http2.Http2ServerRequest,
    respond: (status: number, headers: Record<string, string>, body: string) => void,
  ): void => {
    const path = req.url ?? '/';
    if (path === '/healthz') {
      respond(200, { 'content-type': 'text/plain' }, 'ok\n');
      return;
    }
    if (path === '/metrics') {
      respond(200, { 'content-type': 'text/plain; version=0.0.4' }, metrics());
      return;
    }
    counts[protocol]++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Array<[string, string]> = [];
      const raw = req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const name = raw[i] ?? '';
        if (name.startsWith(':')) continue;
        headers.push([name, raw[i + 1] ?? '']);
      }
      const authority = 'authority' in req && req.authority ? req.authority : req.headers.host;
      const status = Number(/^\/status\/(\d{3})$/.exec(path)?.[1] ?? 200);
      const body = formatReport({
        ...facts(
          protocol === 'http' ? `HTTP/${req.httpVersion}` : 'HTTP/2.0',
          port,
          req.socket.remoteAddress,
        ),
        method: req.method ?? 'GET',
        path,
        ...(authority === undefined ? {} : { authority }),
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      respond(status, { 'content-type': 'text/plain', 'x-echo-version': config.version }, body);
    });
  };

  if (config.httpPort >= 0) {
    const server = http.createServer();
    server.on('request', (req, res) =>
      handle('http', ports.http ?? 0, req, (status, headers, body) =>
        res.writeHead(status, headers).end(body),
      ),
    );
    server.listen(config.httpPort, host);
    await once(server, 'listening');
    ports.http = (server.address() as net.AddressInfo).port;
    closers.push(() => closeServer(server));
  }

  if (config.h2cPort >= 0) {
    const server = http2.createServer();
    server.on('request', (req, res) =>
      handle('h2c', ports.h2c ?? 0, req, (status, headers, body) => res.writeHead(status, headers).end(body)),
    );
    server.listen(config.h2cPort, host);
    await once(server, 'listening');
    ports.h2c = (server.address() as net.AddressInfo).port;
    closers.push(() => closeServer(server));
  }

  if (config.tcpPort >= 0) {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.on('data', (data) => {
        counts.tcp++;
        socket.write(
          formatReport({
            ...facts('TCP', ports.tcp ?? 0, socket.remoteAddress),
            body: data.toString('utf8'),
          }),
        );
      });
    });
    server.listen(config.tcpPort, host);
    await once(server, 'listening');
    ports.tcp = (server.address() as net.AddressInfo).port;
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
    });
  }

  if (config.grpcPort >= 0) {
    const server = new grpc.Server();
    const service: grpc.ServiceDefinition = {
      Echo: {
        path: ECHO_METHOD_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: string) => encodeMessage(m),
        requestDeserialize: (b: Buffer) => decodeMessage(b),
        responseSerialize: (m: string) => encodeMessage(m),
        responseDeserialize: (b: Buffer) => decodeMessage(b),
        originalName: 'echo',
      },
    };
    // grpc.health.v1.Health/Check answering SERVING (HealthCheckResponse { status = 1 }), for
    // gRPC readiness probes.
    const health: grpc.ServiceDefinition = {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (status: number) => Buffer.from([0x08, status]),
        responseDeserialize: (b: Buffer) => b[1] ?? 0,
        originalName: 'check',
      },
    };
    server.addService(health, {
      Check: (_call: grpc.ServerUnaryCall<Buffer, number>, callback: grpc.sendUnaryData<number>) =>
        callback(null, 1),
    });
    server.addService(service, {
      Echo: (call: grpc.ServerUnaryCall<string, string>, callback: grpc.sendUnaryData<string>) => {
        counts.grpc++;
        const headers: Array<[string, string]> = [];
        for (const [name, value] of Object.entries(call.metadata.getMap())) {
          headers.push([name, Buffer.isBuffer(value) ? value.toString('base64') : value]);
        }
        callback(
          null,
          formatReport({
            ...facts('GRPC', ports.grpc ?? 0, grpcPeerHost(call.getPeer())),
            method: 'Echo',
            path: ECHO_METHOD_PATH,
            headers,
            body: call.request,
          }),
        );
      },
    });
    const grpcHost = host === '::' ? '[::]' : host.includes(':') ? `[${host}]` : host;
    ports.grpc = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${grpcHost}:${config.grpcPort}`,
        grpc.ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.tryShutdown(() => resolve());
        }),
    );
  }

  return {
    ports,
    close: async () => {
      await Promise.all(closers.map((c) => c()));
    },
  };
}

/**
 * grpc-js reports peers as `ipv4:10.0.0.1:1234`, `ipv6:[::1]:1234`, `[::1]:1234` or, on a
 * dual-stack listener, `::ffff:10.0.0.1:1234`: drop the scheme, the port and the brackets.
 */
export function grpcPeerHost(peer: string): string {
  const stripped = peer.replace(/^ipv[46]:/, '');
  const hostPort = /^(.*):(\d+)$/.exec(stripped);
  const host = hostPort?.[1] ?? stripped;
  return host.replace(/^\[(.*)\]$/, '$1');
}

function closeServer(server: net.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') {
      server.closeAllConnections();
    }
    server.close(() => resolve());
  });
}

/**
 * The echo app's client side, run inside a pod (`echo client <url>`) or from a test: sends one
 * request per call over HTTP/1.1 (`http://`), cleartext HTTP/2 (`h2c://`), gRPC (`grpc://`)
 * or TCP (`tcp://`) and returns the status and the body (the server's report).
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { ECHO_METHOD_PATH, decodeMessage, encodeMessage } from './proto.js';

export interface EchoRequest {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export interface EchoResponse {
  readonly code: number | string;
  readonly body: string;
}

export async function callEcho(request: EchoRequest): Promise<EchoResponse> {
  const url = new URL(request.url);
  const timeoutMs = request.timeoutMs ?? 5_000;
  switch (url.protocol) {
    case 'http:':
      return http1(url, request, timeoutMs);
    case 'h2c:':
      return h2c(url, request, timeoutMs);
    case 'grpc:':
      return grpcCall(url, request, timeoutMs);
    case 'tcp:':
      return tcp(url, request, timeoutMs);
    default:
      throw new Error(`unsupported scheme ${url.protocol} (http, h2c, grpc, tcp)`);
  }
}

function http1(url: URL, request: EchoRequest, timeoutMs: number): Promise<EchoResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: request.body === undefined ? 'GET' : 'POST',
        headers: { ...request.headers },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

function h2c(url: URL, request: EchoRequest, timeoutMs: number): Promise<EchoResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${url.host}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`timeout after ${timeoutMs}ms`));
    }, timeoutMs);
    session.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const stream = session.request({
      ':method': request.body === undefined ? 'GET' : 'POST',
      ':path': `${url.pathname}${url.search}`,
      ...request.headers,
    });
    let code = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => (code = Number(headers[':status'] ?? 0)));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      session.close();
      resolve({ code, body: Buffer.concat(chunks).toString('utf8') });
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    });
    stream.end(request.body);
  });
}

function grpcCall(url: URL, request: EchoRequest, timeoutMs: number): Promise<EchoResponse> {
  const client = new grpc.Client(url.host, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(request.headers ?? {})) metadata.add(k, v);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<string, string>(
      ECHO_METHOD_PATH,
      encodeMessage,
      decodeMessage,
      // grpc-js sends no message for an empty serialized request: always say something
      request.body ?? 'hello',
      metadata,
      { deadline: Date.now() + timeoutMs },
      (err, value) => {
        client.close();
        if (err) {
          if (err.code === undefined) reject(err);
          else resolve({ code: grpc.status[err.code] ?? String(err.code), body: err.details });
          return;
        }
        resolve({ code: 'OK', body: value ?? '' });
      },
    );
  });
}

function tcp(url: URL, request: EchoRequest, timeoutMs: number): Promise<EchoResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    let received = '';
    socket.on('connect', () => socket.write(request.body ?? 'hello'));
    socket.on('data', (d: Buffer) => {
      received += d.toString('utf8');
      // one report per write; it ends with the echoed payload line
      if (received.includes('\nEcho=') && received.endsWith('\n')) socket.end();
    });
    socket.on('end', () => resolve({ code: 'OK', body: received }));
    socket.on('error', reject);
  });
}

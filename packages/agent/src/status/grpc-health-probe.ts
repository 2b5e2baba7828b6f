// A gRPC health check (grpc.health.v1.Health/Check) over node:http2 from a chosen local address:
// @grpc/grpc-js cannot bind the client socket, and a probe must leave from 127.0.0.6, which the
// capture rules pass through, so it is not redirected into the sidecar's inbound listener.
import * as http2 from 'node:http2';
import * as net from 'node:net';

export interface GrpcHealthResult {
  /** grpc-status of the call (0 OK), or undefined when the call never completed. */
  grpcStatus: number | undefined;
  /** HealthCheckResponse.status: 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN (0 when absent). */
  servingStatus: number;
  detail: string;
}

export interface GrpcHealthOptions {
  host: string;
  port: number;
  service: string;
  timeoutMs: number;
  /** Source address of the connection (e.g. 127.0.0.6); the kernel's choice when absent. */
  localAddress?: string;
}

/** Field 1 (string service) of HealthCheckRequest, empty for the server's overall health. */
export function encodeHealthRequest(service: string): Buffer {
  const s = Buffer.from(service);
  if (s.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]);
}

/** Field 1 (enum status) of HealthCheckResponse; 0 (UNKNOWN) when absent. */
export function decodeHealthStatus(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const [key, afterKey] = readVarint(b, i);
    const wireType = key & 7;
    if (wireType === 0) {
      const [value, next] = readVarint(b, afterKey);
      if (key >>> 3 === 1) return value;
      i = next;
    } else if (wireType === 2) {
      const [len, next] = readVarint(b, afterKey);
      i = next + len;
    } else return 0;
  }
  return 0;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(b: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = at;
  while (i < b.length) {
    const byte = b[i++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i];
    shift += 7;
  }
  return [value, i];
}

/** One length-prefixed gRPC message (uncompressed). */
function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** Calls Health/Check once; never rejects (failures come back as a result with a detail). */
export function grpcHealthCheck(o: GrpcHealthOptions): Promise<GrpcHealthResult> {
  const authority = `${net.isIPv6(o.host) ? `[${o.host}]` : o.host}:${o.port}`;
  return new Promise((resolve) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let grpcStatus: number | undefined;
    let grpcMessage = '';
    const session = http2.connect(`http://${authority}`, {
      createConnection: () =>
        net.connect({
          host: o.host,
          port: o.port,
          ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        }),
    });
    const timer = setTimeout(() => finish(undefined, `timeout after ${o.timeoutMs} ms`), o.timeoutMs);
    function finish(status: number | undefined, detail: string): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      const body = Buffer.concat(chunks);
      const message = body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0);
      resolve({
        grpcStatus: status,
        servingStatus: status === 0 ? decodeHealthStatus(message) : 0,
        detail,
      });
    }
    session.on('error', (e) => finish(undefined, e.message));
    const readStatus = (h: http2.IncomingHttpHeaders): void => {
      const s = h['grpc-status'];
      if (s !== undefined) grpcStatus = Number(s);
      const m = h['grpc-message'];
      if (typeof m === 'string') grpcMessage = decodeURIComponent(m);
    };
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'kube-probe/skein-agent',
    });
    req.on('response', (h) => {
      const httpStatus = Number(h[':status']);
      if (httpStatus !== 200) finish(undefined, `HTTP ${httpStatus}`);
      else readStatus(h);
    });
    req.on('trailers', readStatus);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      finish(
        grpcStatus,
        grpcStatus === undefined
          ? 'no grpc-status'
          : grpcStatus === 0
            ? 'OK'
            : `grpc-status ${grpcStatus}${grpcMessage ? `: ${grpcMessage}` : ''}`,
      ),
    );
    req.on('error', (e) => finish(undefined, e.message));
    req.end(frame(encodeHealthRequest(o.service)));
  });
}

// The network side of active health checking: one probe per `health_checks` kind — an HTTP/1.1
// GET (host, path, expected statuses, request headers), a TCP connect with optional hex send /
// receive payloads, and a gRPC health v1 `Check` over HTTP/2 (SERVING is healthy).
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Host } from '../endpoint/host.js';
import type { Probe, ProbeFactory } from './health-checker.js';

interface Payload {
  text?: string;
  binary?: string;
}

interface HcJson {
  httpHealthCheck?: {
    host?: string;
    path?: string;
    expectedStatuses?: { start?: string | number; end?: string | number }[];
    requestHeadersToAdd?: { header?: { key?: string; value?: string } }[];
    requestHeadersToRemove?: string[];
    codecClientType?: string;
  };
  tcpHealthCheck?: { send?: Payload; receive?: Payload[] };
  grpcHealthCheck?: { serviceName?: string; authority?: string };
}

function payloadBytes(p: Payload | undefined): Buffer {
  if (!p) return Buffer.alloc(0);
  if (p.text !== undefined) return Buffer.from(p.text, 'hex');
  return Buffer.from(p.binary ?? '', 'base64');
}

/** Envoy's expected-status ranges are half-open [start, end); the default is 200 only. */
export function statusExpected(
  status: number,
  ranges: { start?: string | number; end?: string | number }[] | undefined,
): boolean {
  const list = ranges ?? [];
  if (list.length === 0) return status === 200;
  return list.some((r) => status >= Number(r.start ?? 0) && status < Number(r.end ?? 0));
}

function httpProbe(cfg: NonNullable<HcJson['httpHealthCheck']>, cluster: string): Probe {
  if (cfg.codecClientType === 'HTTP2' || cfg.codecClientType === 'HTTP3')
    throw new Error(`cluster ${cluster}: HTTP health checks over ${cfg.codecClientType} are not supported`);
  const headers: Record<string, string> = { 'user-agent': 'Envoy/HC', host: cfg.host || cluster };
  for (const h of cfg.requestHeadersToAdd ?? [])
    if (h.header?.key) headers[h.header.key.toLowerCase()] = h.header.value ?? '';
  for (const r of cfg.requestHeadersToRemove ?? []) delete headers[r.toLowerCase()];
  return (host: Host, signal: AbortSignal) =>
    new Promise<boolean>((resolve, reject) => {
      const req = http.request(
        { host: host.address, port: host.port, path: cfg.path ?? '/', headers, agent: false, signal },
        (res) => {
          res.resume();
          res.once('end', () => resolve(statusExpected(res.statusCode ?? 0, cfg.expectedStatuses)));
          res.once('error', reject);
        },
      );
      req.once('error', reject);
      req.end();
    });
}

function tcpProbe(cfg: NonNullable<HcJson['tcpHealthCheck']>): Probe {
  const send = payloadBytes(cfg.send);
  const expect = (cfg.receive ?? []).map(payloadBytes);
  return (host: Host, signal: AbortSignal) =>
    new Promise<boolean>((resolve) => {
      const sock = net.connect({ host: host.address, port: host.port });
      const done = (ok: boolean): void => {
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      signal.addEventListener('abort', onAbort, { once: true });
      sock.once('error', () => done(false));
      sock.once('connect', () => {
        if (send.length > 0) sock.write(send);
        if (expect.length === 0) return done(true);
        // Each expected payload must appear, in order, in what the host sends back.
        let got = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          let at = 0;
          for (const e of expect) {
            const i = got.indexOf(e, at);
            if (i < 0) return;
            at = i + e.length;
          }
          done(true);
        });
        sock.once('end', () => done(false));
      });
    });
}

function grpcProbe(cfg: NonNullable<HcJson['grpcHealthCheck']>, cluster: string): Probe {
  const service = Buffer.from(cfg.serviceName ?? '');
  // HealthCheckRequest { string service = 1; } in a gRPC length-prefixed frame.
  const msg =
    service.length > 0 ? Buffer.concat([Buffer.from([0x0a, service.length]), service]) : Buffer.alloc(0);
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
  return (host: Host, signal: AbortSignal) =>
    new Promise<boolean>((resolve) => {
      const session = http2.connect(`http://${host.key}`);
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        session.destroy();
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      signal.addEventListener('abort', onAbort, { once: true });
      session.once('error', () => done(false));
      const stream = session.request({
        ':method': 'POST',
        ':path': '/grpc.health.v1.Health/Check',
        ':authority': cfg.authority || cluster,
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'Envoy/HC',
      });
      const chunks: Buffer[] = [];
      let grpcStatus: string | undefined;
      stream.on('response', (h) => {
        if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      });
      stream.on('trailers', (t) => (grpcStatus = String(t['grpc-status'] ?? grpcStatus)));
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.once('error', () => done(false));
      stream.once('end', () => {
        // HealthCheckResponse { ServingStatus status = 1; } — SERVING is 1.
        const body = Buffer.concat(chunks).subarray(5);
        done(grpcStatus === '0' && body[0] === 0x08 && body[1] === 1);
      });
      stream.end(frame);
    });
}

/** The probe for a `health_checks` entry. */
export const defaultProbes: ProbeFactory = (hc, cluster) => {
  const h = hc as HcJson;
  if (h.httpHealthCheck) return httpProbe(h.httpHealthCheck, cluster);
  if (h.tcpHealthCheck) return tcpProbe(h.tcpHealthCheck);
  if (h.grpcHealthCheck) return grpcProbe(h.grpcHealthCheck, cluster);
  throw new Error(`cluster ${cluster}: only HTTP, TCP and gRPC health checks are supported`);
};

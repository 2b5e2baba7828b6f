// The network side of active health checking: one probe per `health_checks` kind — an HTTP/1.1
// GET (host, path, expected statuses, request headers; over HTTP/2 with `codec_client_type: HTTP2`,
// http2-health-probe.ts), a TCP connect with optional hex send /
// receive payloads, and a gRPC health v1 `Check` over HTTP/2 (SERVING is healthy) — over each
// host's transport socket (transport_socket_matches, or the check's
// transport_socket_match_criteria): plaintext, or TLS with its UpstreamTlsContext (SNI, ALPN, SAN check).
import http from 'node:http';
import type http2 from 'node:http2';
import type https from 'node:https';
import { nodeHttp2, nodeHttps } from '../util/node-builtins.js';
import type { ConnectionOptions } from 'node:tls';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Host } from '../endpoint/host.js';
import type { TlsContext } from '../transport-socket/tls-context.js';
import { alpnFor, connectTls } from '../transport-socket/upstream-tls.js';
import { IMMEDIATE_FAIL, type Probe, type ProbeFactory } from './health-checker.js';
import { http2Probe } from './http2-health-probe.js';

/**
 * A connection to the host over the cluster's transport socket; `ready` is told when it can carry
 * bytes (TLS: handshake done and the server's SAN verified) or why not. A TLS connection that
 * fails verification is destroyed, so HTTP and gRPC probes writing early see it close.
 */
export function connect(
  host: Host,
  tls: TlsContext | undefined,
  alpn: string[] | undefined,
  ready: (err: Error | null) => void = () => {},
): Duplex {
  if (!tls) {
    const s = net.connect({ host: host.address, port: host.port });
    s.once('connect', () => ready(null));
    s.once('error', (e) => ready(e));
    return s;
  }
  const s = connectTls(tls, { host: host.address, port: host.port, alpn, timeoutMs: 5000 }, (err) =>
    ready(err),
  );
  if (!s) throw new Error('upstream TLS secrets are not available yet');
  s.on('error', () => {}); // reported through `ready` or the socket's close
  return s;
}

interface Payload {
  text?: string;
  binary?: string;
}

export interface HttpHealthCheckJson {
  host?: string;
  path?: string;
  expectedStatuses?: { start?: string | number; end?: string | number }[];
  requestHeadersToAdd?: { header?: { key?: string; value?: string } }[];
  requestHeadersToRemove?: string[];
  codecClientType?: string;
}

interface HcJson {
  reuseConnection?: boolean;
  httpHealthCheck?: HttpHealthCheckJson;
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

/** An HTTP check's verdict on a response: its status, or an immediate failure the host asked for. */
export function httpVerdict(
  status: number,
  headers: Record<string, unknown>,
  ranges: { start?: string | number; end?: string | number }[] | undefined,
): boolean | typeof IMMEDIATE_FAIL {
  if (headers['x-envoy-immediate-health-check-fail'] !== undefined) return IMMEDIATE_FAIL;
  return statusExpected(status, ranges);
}

type TlsFor = (host: Host) => TlsContext | undefined;

function httpProbe(cfg: HttpHealthCheckJson, cluster: string, tlsFor: TlsFor, reuse: boolean): Probe {
  if (cfg.codecClientType === 'HTTP3')
    throw new Error(`cluster ${cluster}: HTTP health checks over ${cfg.codecClientType} are not supported`);
  const headers: Record<string, string> = { 'user-agent': 'Envoy/HC', host: cfg.host || cluster };
  for (const h of cfg.requestHeadersToAdd ?? [])
    if (h.header?.key) headers[h.header.key.toLowerCase()] = h.header.value ?? '';
  for (const r of cfg.requestHeadersToRemove ?? []) delete headers[r.toLowerCase()];
  if (cfg.codecClientType === 'HTTP2') return http2Probe(cfg, headers, tlsFor, reuse);
  // reuse_connection (Envoy's default: true): one kept-alive connection per host for its checks.
  const agents = new Map<string, http.Agent>();
  const agentFor = (host: Host, tls: TlsContext | undefined): http.Agent | false => {
    if (!reuse) return false;
    // Keyed by the socket too: a host whose socket changed gets a new connection.
    const key = `${host.key} ${tls ? 'tls' : 'raw'}`;
    let a = agents.get(key);
    if (!a) {
      const opts = { keepAlive: true, maxSockets: 1 };
      a = tls ? new nodeHttps.Agent(opts) : new http.Agent(opts);
      agents.set(key, a);
    }
    return a;
  };
  const probe: Probe = (host: Host, signal: AbortSignal) =>
    new Promise<boolean | typeof IMMEDIATE_FAIL>((resolve, reject) => {
      const tls = tlsFor(host);
      const onResponse = (res: http.IncomingMessage): void => {
        res.resume();
        res.once('end', () => resolve(httpVerdict(res.statusCode ?? 0, res.headers, cfg.expectedStatuses)));
        res.once('error', reject);
      };
      const base = {
        host: host.address,
        port: host.port,
        path: cfg.path ?? '/',
        headers,
        agent: agentFor(host, tls),
        signal,
      };
      let req: http.ClientRequest;
      if (tls) {
        const secureContext = tls.secureContext();
        if (!secureContext) return reject(new Error('upstream TLS secrets are not available yet'));
        const opts: https.RequestOptions & ConnectionOptions = {
          ...base,
          secureContext,
          ...(tls.sni ? { servername: tls.sni } : {}),
          ALPNProtocols: alpnFor(tls.alpn, 'http/1.1'),
          rejectUnauthorized: tls.verifies,
          // Envoy checks only the configured SAN matchers, not the host name.
          checkServerIdentity: (_name, cert) => {
            const why = tls.verifyPeer(cert);
            return why ? new Error(why) : undefined;
          },
        };
        req = nodeHttps.request(opts, onResponse);
      } else req = http.request(base, onResponse);
      req.once('error', reject);
      req.end();
    });
  probe.close = () => {
    for (const a of agents.values()) a.destroy();
    agents.clear();
  };
  return probe;
}

function tcpProbe(cfg: NonNullable<HcJson['tcpHealthCheck']>, tlsFor: TlsFor): Probe {
  const send = payloadBytes(cfg.send);
  const expect = (cfg.receive ?? []).map(payloadBytes);
  return (host: Host, signal: AbortSignal) =>
    new Promise<boolean>((resolve) => {
      let sock: Duplex | undefined;
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        sock?.destroy();
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      signal.addEventListener('abort', onAbort, { once: true });
      const onReady = (err: Error | null): void => {
        const s = sock;
        if (err || !s) return done(false);
        if (send.length > 0) s.write(send);
        if (expect.length === 0) return done(true);
        // Each expected payload must appear, in order, in what the host sends back.
        let got = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          let at = 0;
          for (const e of expect) {
            const i = got.indexOf(e, at);
            if (i < 0) return;
            at = i + e.length;
          }
          done(true);
        });
        s.once('end', () => done(false));
      };
      try {
        sock = connect(host, tlsFor(host), undefined, (err) => onReady(err));
      } catch {
        return done(false);
      }
      sock.once('error', () => done(false));
      sock.once('close', () => done(false));
    });
}

/** An HTTP/2 session to a host — h2c, or the cluster's TLS with ALPN h2 — or undefined. */
export function openProbeSession(
  host: Host,
  tls: TlsContext | undefined,
): http2.ClientHttp2Session | undefined {
  try {
    return tls
      ? nodeHttp2.connect(`https://${host.key}`, {
          createConnection: () => connect(host, tls, alpnFor(tls.alpn, 'h2')),
        })
      : nodeHttp2.connect(`http://${host.key}`);
  } catch {
    return undefined;
  }
}

/**
 * A probe's HTTP/2 session to a host — h2c, or the cluster's TLS with ALPN h2 — and its one-shot
 * `done`: it destroys the session, drops the abort listener and resolves; an abort or a session
 * error gives false. Undefined (already resolved false) when no session could be started.
 */
export function probeSession<V>(
  host: Host,
  tls: TlsContext | undefined,
  signal: AbortSignal,
  resolve: (verdict: V | false) => void,
): { session: http2.ClientHttp2Session; done: (verdict: V | false) => void } | undefined {
  const session = openProbeSession(host, tls);
  if (!session) {
    resolve(false);
    return undefined;
  }
  let settled = false;
  const onAbort = (): void => done(false);
  const done = (verdict: V | false): void => {
    if (settled) return;
    settled = true;
    signal.removeEventListener('abort', onAbort);
    session.destroy();
    resolve(verdict);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  session.once('error', () => done(false));
  return { session, done };
}

function grpcProbe(cfg: NonNullable<HcJson['grpcHealthCheck']>, cluster: string, tlsFor: TlsFor): Probe {
  const service = Buffer.from(cfg.serviceName ?? '');
  // HealthCheckRequest { string service = 1; } in a gRPC length-prefixed frame.
  const msg =
    service.length > 0 ? Buffer.concat([Buffer.from([0x0a, service.length]), service]) : Buffer.alloc(0);
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
  return (host: Host, signal: AbortSignal) =>
    new Promise<boolean>((resolve) => {
      const opened = probeSession<boolean>(host, tlsFor(host), signal, resolve);
      if (!opened) return;
      const { session, done } = opened;
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
export const defaultProbes: ProbeFactory = (hc, cluster, tlsFor) => {
  const h = hc as HcJson;
  if (h.httpHealthCheck) return httpProbe(h.httpHealthCheck, cluster, tlsFor, h.reuseConnection !== false);
  if (h.tcpHealthCheck) return tcpProbe(h.tcpHealthCheck, tlsFor);
  if (h.grpcHealthCheck) return grpcProbe(h.grpcHealthCheck, cluster, tlsFor);
  throw new Error(`cluster ${cluster}: only HTTP, TCP and gRPC health checks are supported`);
};

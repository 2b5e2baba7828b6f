// HTTP/2 downstream connections of the HCM: a node:http2 server session per connection, with the
// HCM's connection timers as Envoy applies them to HTTP/2:
// - `common_http_protocol_options.idle_timeout` (default 1 h): no stream open for that long →
//   GOAWAY and close (`downstream_cx_idle_timeout`);
// - `common_http_protocol_options.max_connection_duration`: GOAWAY when reached (no new streams),
//   the connection closes once its streams in flight end, and at the latest after the HCM's
//   `drain_timeout` (`downstream_cx_max_duration_reached`).
import type { Duplex } from 'node:stream';
import type http2 from 'node:http2';
import { nodeHttp2 } from '../util/node-builtins.js';
import { connectionLimitsOf } from './connection-timers.js';
import type { HttpConnectionManager } from './connection-manager.js';
import type { DownstreamConnection, ProxyContext } from './proxy-context.js';

/** Serves one downstream HTTP/2 connection (h2c or over TLS) through `hcm`. */
export function serveHttp2(
  hcm: HttpConnectionManager,
  conn: DownstreamConnection,
  socket: Duplex,
  ctx: ProxyContext,
): void {
  const server = nodeHttp2.createServer({ maxSessionMemory: 64 });
  server.on('request', (req, res) => hcm.handle(req, res, conn));
  server.on('sessionError', () => {});
  server.on('session', (session: http2.ServerHttp2Session) => watchSession(session, hcm, ctx));
  server.emit('connection', socket);
}

function watchSession(
  session: http2.ServerHttp2Session,
  hcm: HttpConnectionManager,
  ctx: ProxyContext,
): void {
  const labels = { envoy_http_conn_manager_prefix: hcm.config.statPrefix ?? 'http' };
  const timers: (NodeJS.Timeout | undefined)[] = [];
  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const t = setTimeout(fn, ms).unref();
    timers.push(t);
    return t;
  };
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const idleMs = hcm.idleTimeoutMs;
  const armIdle = (): void => {
    if (idleMs <= 0 || session.closed) return;
    idle = later(idleMs, () => {
      ctx.stats.inc('http.{envoy_http_conn_manager_prefix}.downstream_cx_idle_timeout', labels);
      // close() sends GOAWAY; with no stream open the session then ends at once.
      session.close();
    });
  };
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(idle);
    stream.once('close', () => {
      if (--open === 0) armIdle();
    });
  });
  armIdle();
  const limits = connectionLimitsOf(hcm.config);
  if (limits.maxDurationMs > 0) {
    later(limits.maxDurationMs, () => {
      ctx.stats.inc('http.{envoy_http_conn_manager_prefix}.downstream_cx_max_duration_reached', labels);
      // GOAWAY: the client opens no new stream here; the open ones finish, then the session ends.
      session.close();
      later(limits.drainMs, () => session.destroy());
    });
  }
  session.once('close', () => {
    for (const t of timers) clearTimeout(t);
  });
}

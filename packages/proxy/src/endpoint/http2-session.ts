// One upstream HTTP/2 session per host (h2c or over TLS), reopened when it closes, with the
// cluster's connection timers as Envoy applies them to HTTP/2 pools:
// - `idle_timeout` (default 1 h): no stream open for that long → the session closes (GOAWAY);
// - `max_connection_duration`: when reached, the session takes no new stream (the next request
//   opens a new session), its streams in flight finish, then it closes
//   (`upstream_cx_max_duration_reached`).
// With an original source (original_src, Istio's TPROXY inbound) the session's connection leaves
// from the downstream client's address (from the proxy's own when that cannot be done).
import type http2 from 'node:http2';
import net from 'node:net';
import { nodeHttp2 } from '../util/node-builtins.js';
import type { Host } from './host.js';
import { alpnFor, connectTls } from '../transport-socket/upstream-tls.js';
import type { PoolOptions } from './upstream-pools.js';
import { connectFromSource, type OriginalSource } from '../listener/original-src.js';

/** One HTTP/2 session per host, reopened when it closes. */
export class Http2Session {
  private session: http2.ClientHttp2Session | undefined;
  constructor(
    private readonly host: Host,
    private readonly opts: PoolOptions,
    private readonly source?: OriginalSource,
  ) {}

  get(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const tlsCtx = this.opts.tls;
    const s = tlsCtx
      ? nodeHttp2.connect(`https://${this.host.key}`, {
          peerMaxConcurrentStreams: 1000,
          createConnection: () => {
            const sock = connectTls(
              tlsCtx,
              {
                host: this.host.address,
                port: this.host.port,
                alpn: alpnFor(tlsCtx.alpn, 'h2'),
                timeoutMs: this.opts.connectTimeoutMs,
                localAddress: this.opts.sourceAddress,
                ...(this.source ? { socket: this.sourcedSocket() } : {}),
              },
              (err) => {
                if (err) sock?.destroy(err);
              },
            );
            if (!sock) throw new Error('upstream TLS secrets are not available yet');
            return sock;
          },
        })
      : nodeHttp2.connect(`http://${this.host.key}`, {
          peerMaxConcurrentStreams: 1000,
          ...(this.opts.sourceAddress || this.source ? { createConnection: () => this.plainSocket() } : {}),
        });
    watchTimers(s, this.opts);
    s.on('error', () => {});
    s.on('connect', () => this.opts.onConnect?.(this.host));
    this.session = s;
    return s;
  }

  /** A connection from the original source, when one can be made. */
  private sourcedSocket(): net.Socket | undefined {
    if (!this.source) return undefined;
    const from = connectFromSource(this.source, this.host.address, this.host.port);
    return 'socket' in from ? from.socket : undefined;
  }

  private plainSocket(): net.Socket {
    const sourced = this.sourcedSocket();
    if (sourced) return sourced;
    return net.connect({
      host: this.host.address,
      port: this.host.port,
      ...(this.opts.sourceAddress ? { localAddress: this.opts.sourceAddress } : {}),
    });
  }

  /** No session, or one without streams that is closed or closing (the sourced pools drop it). */
  get unused(): boolean {
    const s = this.session;
    return !s || s.closed || s.destroyed;
  }

  close(): void {
    this.session?.close();
    this.session?.destroy();
    this.session = undefined;
  }
}

/**
 * Arms the session's idle timeout (counted while no stream is open) and max connection duration.
 * Streams are counted where they are made: the session's own `request`.
 */
function watchTimers(s: http2.ClientHttp2Session, opts: PoolOptions): void {
  const timers: NodeJS.Timeout[] = [];
  let idle: NodeJS.Timeout | undefined;
  let open = 0;
  const armIdle = (): void => {
    if (opts.idleTimeoutMs <= 0 || s.closed) return;
    idle = setTimeout(() => s.close(), opts.idleTimeoutMs).unref();
    timers.push(idle);
  };
  const request = s.request.bind(s);
  s.request = (headers, options) => {
    const stream = request(headers, options);
    open++;
    clearTimeout(idle);
    stream.once('close', () => {
      if (--open === 0) armIdle();
    });
    return stream;
  };
  armIdle();
  const maxMs = opts.maxConnectionDurationMs ?? 0;
  if (maxMs > 0) {
    const t = setTimeout(() => {
      opts.onMaxDuration?.();
      s.close();
    }, maxMs).unref();
    timers.push(t);
  }
  s.once('close', () => {
    for (const t of timers) clearTimeout(t);
  });
}

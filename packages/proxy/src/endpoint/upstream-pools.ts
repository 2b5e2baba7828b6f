// Pooled upstream HTTP connections per host: undici pools for HTTP/1.1 (keep-alive, connect
// timeout, connection limit) and node:http2 sessions for HTTP/2 (h2c, multiplexed streams).
import { Pool } from '../util/undici-core.js';
import type { OriginalSource } from '../listener/original-src.js';
import { SourcedPools } from './sourced-pools.js';
import type { Host } from './host.js';
import type { TlsContext } from '../transport-socket/tls-context.js';
import { undiciTlsConnector } from '../transport-socket/upstream-tls.js';
import { newHttp1Pool, type Http1Pool } from './http1-pool.js';
import { LEGACY_HTTP1 } from '../codec/http1-path.js';
import { Http2Session } from './http2-session.js';

export { Http2Session };

export type UpstreamProtocol = 'http1' | 'http2';

export interface PoolOptions {
  /** Originate TLS with this context (UpstreamTlsContext). */
  tls?: TlsContext | undefined;
  connectTimeoutMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  /** max_connection_duration of pooled HTTP/1.1 connections and HTTP/2 sessions (0: none). */
  maxConnectionDurationMs?: number;
  onMaxDuration?: () => void;
  /**
   * upstream_bind_config: the source address of upstream connections. Istio binds inbound
   * clusters to 127.0.0.6 so the sidecar's own calls to its pod IP are not captured again.
   */
  sourceAddress?: string | undefined;
  /** Called when a new connection is opened to count upstream_cx_total. */
  onConnect?: (host: Host) => void;
}

export class UpstreamPools {
  private readonly h1 = new Map<string, Pool>();
  private readonly h2 = new Map<string, Http2Session>();
  private readonly raw = new Map<string, Http1Pool>();
  private readonly sourced: SourcedPools;
  constructor(private opts: PoolOptions) {
    this.sourced = new SourcedPools(opts);
  }

  /**
   * The raw-socket HTTP/1.1 pool, plain or over TLS (undefined: use `http1`, the legacy path).
   * With an original source (original_src), a pool of its own per client address.
   */
  rawHttp1(host: Host, source?: OriginalSource): Http1Pool | undefined {
    if (LEGACY_HTTP1) return undefined;
    if (source) return this.sourced.get(host, source);
    let p = this.raw.get(host.key);
    if (!p) {
      p = newHttp1Pool(this.opts, host);
      this.raw.set(host.key, p);
    }
    return p;
  }

  http1(host: Host): Pool {
    let p = this.h1.get(host.key);
    if (!p) {
      p = new Pool(`http://${host.key}`, {
        connections: this.opts.maxConnections,
        connectTimeout: this.opts.connectTimeoutMs,
        keepAliveTimeout: this.opts.idleTimeoutMs,
        // A server's Keep-Alive hint may shorten, never lengthen, the idle timeout.
        keepAliveMaxTimeout: this.opts.idleTimeoutMs,
        headersTimeout: 0,
        bodyTimeout: 0,
        pipelining: 1,
        ...(this.opts.tls
          ? {
              connect: undiciTlsConnector(this.opts.tls, this.opts.connectTimeoutMs, this.opts.sourceAddress),
            }
          : this.opts.sourceAddress
            ? { localAddress: this.opts.sourceAddress }
            : {}),
      });
      p.on('connect', () => this.opts.onConnect?.(host));
      this.h1.set(host.key, p);
    }
    return p;
  }

  /** The host's HTTP/2 session; with an original source (original_src), one per client address. */
  http2(host: Host, source?: OriginalSource): Http2Session {
    if (source) return this.sourced.http2(host, source);
    let s = this.h2.get(host.key);
    if (!s) {
      s = new Http2Session(host, this.opts);
      this.h2.set(host.key, s);
    }
    return s;
  }

  /** Closes pools of hosts no longer present. */
  retain(keys: ReadonlySet<string>): void {
    this.sourced.retain(keys);
    for (const [k, p] of this.raw) {
      if (keys.has(k)) continue;
      p.close();
      this.raw.delete(k);
    }
    for (const [k, p] of this.h1) {
      if (keys.has(k)) continue;
      void p.close().catch(() => {});
      this.h1.delete(k);
    }
    for (const [k, s] of this.h2) {
      if (keys.has(k)) continue;
      s.close();
      this.h2.delete(k);
    }
  }

  async close(): Promise<void> {
    const closing = [...this.h1.values()].map((p) => p.destroy().catch(() => {}));
    for (const s of this.h2.values()) s.close();
    for (const p of this.raw.values()) p.destroy();
    this.raw.clear();
    this.sourced.destroy();
    this.h1.clear();
    this.h2.clear();
    await Promise.all(closing);
  }
}

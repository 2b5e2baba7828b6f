// HTTP/1.1 pools and HTTP/2 sessions (plain or TLS) per (host, client address) for original_src listeners
// (Istio's TPROXY inbound): a connection that leaves from one client's address can only carry
// that client's requests. A pool (session) with no connection left is dropped when the next one
// is made, so the maps follow the clients currently talking rather than every client ever seen.
import type { Host } from './host.js';
import { newHttp1Pool, type Http1Pool } from './http1-pool.js';
import { Http2Session } from './http2-session.js';
import type { OriginalSource } from '../listener/original-src.js';
import type { PoolOptions } from './upstream-pools.js';

export class SourcedPools {
  private readonly pools = new Map<string, { hostKey: string; pool: Http1Pool }>();
  private readonly sessions = new Map<string, { hostKey: string; session: Http2Session }>();
  constructor(private readonly opts: PoolOptions) {}

  get(host: Host, source: OriginalSource): Http1Pool {
    const key = `${host.key} ${source.address}`;
    const found = this.pools.get(key);
    if (found) return found.pool;
    for (const [k, e] of this.pools) if (e.pool.unused) this.pools.delete(k);
    const pool = newHttp1Pool(this.opts, host, source);
    this.pools.set(key, { hostKey: host.key, pool });
    return pool;
  }

  /** The HTTP/2 session (h2c or TLS) from this client's address to the host. */
  http2(host: Host, source: OriginalSource): Http2Session {
    const key = `${host.key} ${source.address}`;
    const found = this.sessions.get(key);
    if (found) return found.session;
    for (const [k, e] of this.sessions) if (e.session.unused) this.sessions.delete(k);
    const session = new Http2Session(host, this.opts, source);
    this.sessions.set(key, { hostKey: host.key, session });
    return session;
  }

  /** Closes the pools of hosts no longer present. */
  retain(keys: ReadonlySet<string>): void {
    for (const [k, e] of this.sessions) {
      if (keys.has(e.hostKey)) continue;
      e.session.close();
      this.sessions.delete(k);
    }
    for (const [k, e] of this.pools) {
      if (keys.has(e.hostKey)) continue;
      e.pool.close();
      this.pools.delete(k);
    }
  }

  destroy(): void {
    for (const e of this.pools.values()) e.pool.destroy();
    this.pools.clear();
    for (const e of this.sessions.values()) e.session.close();
    this.sessions.clear();
  }
}

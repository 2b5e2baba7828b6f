// Upstream TLS session resumption (Envoy's default of UpstreamTlsContext `max_session_keys`, 1):
// the sessions (TLS 1.3 tickets, TLS 1.2 tickets or ids) a context's connections received, per
// server, each with the peer certificate verified on its full handshake — a resumed handshake
// carries no certificate, so the SAN check of a resumed connection reads the one kept here.
import type tls from 'node:tls';

export interface CachedSession {
  session: Buffer;
  /** The server's certificate, as verified when the session was first established. */
  peer: tls.PeerCertificate;
}

/** At most this many servers per context keep sessions (the least recently stored are dropped). */
const MAX_SERVERS = 1024;

export class TlsSessionCache {
  /**
   * Keyed by the SecureContext the sessions were made with: a rotated certificate or trust
   * bundle is a new SecureContext, so sessions of the old identity are never offered again.
   */
  private readonly byContext = new WeakMap<tls.SecureContext, Map<string, CachedSession[]>>();

  constructor(readonly maxKeys: number) {}

  /** The newest session stored for `server` under `context`, if any. */
  get(context: tls.SecureContext, server: string): CachedSession | undefined {
    const list = this.byContext.get(context)?.get(server);
    return list?.[list.length - 1];
  }

  /** Stores a session, keeping the newest `maxKeys` per server. */
  put(context: tls.SecureContext, server: string, entry: CachedSession): void {
    if (this.maxKeys <= 0) return;
    let servers = this.byContext.get(context);
    if (!servers) {
      servers = new Map();
      this.byContext.set(context, servers);
    }
    const list = servers.get(server) ?? [];
    servers.delete(server);
    list.push(entry);
    if (list.length > this.maxKeys) list.splice(0, list.length - this.maxKeys);
    servers.set(server, list);
    if (servers.size > MAX_SERVERS) {
      const oldest = servers.keys().next().value;
      if (oldest !== undefined) servers.delete(oldest);
    }
  }

  /** Forgets a session the server would not resume, so the next connection does not offer it. */
  drop(context: tls.SecureContext, server: string, session: Buffer): void {
    const servers = this.byContext.get(context);
    const list = servers?.get(server);
    if (!servers || !list) return;
    const rest = list.filter((e) => e.session !== session);
    if (rest.length > 0) servers.set(server, rest);
    else servers.delete(server);
  }
}

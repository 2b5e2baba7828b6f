// Upstream TLS origination for a cluster's UpstreamTlsContext: a connector that opens TLS with the
// context's current certificate and trust, the configured SNI and ALPN, and checks the server's
// subject alt names the way Envoy does (only the configured matchers; no hostname check).
import type tls from 'node:tls';
import { nodeTls } from '../util/node-builtins.js';
import type net from 'node:net';
import type { TlsContext } from './tls-context.js';

export interface TlsConnectOptions {
  host: string;
  port: number;
  alpn: string[] | undefined;
  timeoutMs: number;
  /** The cluster's upstream_bind_config source address, if any. */
  localAddress?: string | undefined;
  /** Decrypted reads into this buffer, handed to `callback` (net's `onread`) instead of 'data'. */
  onread?: { buffer: Uint8Array; callback: (n: number, b: Uint8Array) => boolean } | undefined;
  /** An already connecting TCP socket to run TLS over (original_src), instead of a new one. */
  socket?: net.Socket | undefined;
}

/** Istio's in-mesh ALPN marker: a context offering it is mesh mTLS (ISTIO_MUTUAL). */
export const MESH_ALPN_MARKER = 'istio';

/**
 * The ALPN a connection that will speak `proto` offers. Inside mesh mTLS (the context lists
 * `istio`) it is Istio's list for that protocol — `istio-http/1.1, istio, http/1.1` or
 * `istio-h2, istio, h2` — so the server sidecar's HTTP chain takes it even on a sniffed port (what
 * Istio's `istio.alpn` filter does for HTTP upstreams); TCP connections offer the context's list
 * unchanged (`istio-peer-exchange` first). Otherwise: the context's list without the other HTTP
 * protocols, and `proto` itself.
 */
export function alpnFor(configured: readonly string[], proto: 'http/1.1' | 'h2'): string[] {
  if (configured.includes(MESH_ALPN_MARKER))
    return proto === 'h2'
      ? ['istio-h2', MESH_ALPN_MARKER, 'h2']
      : ['istio-http/1.1', MESH_ALPN_MARKER, 'http/1.1'];
  const others = proto === 'h2' ? ['http/1.1', 'http/1.0'] : ['h2'];
  const list = configured.filter((p) => !others.includes(p));
  return list.includes(proto) ? list : [...list, proto];
}

/**
 * Opens a verified TLS connection; the callback gets the socket once the handshake passed. With
 * the context's session cache, it offers the server's last session and keeps the ones the server
 * issues (a resumed connection is checked against the certificate its session was verified with).
 */
export function connectTls(
  ctx: TlsContext,
  o: TlsConnectOptions,
  cb: (err: Error | null, socket: tls.TLSSocket | null) => void,
): tls.TLSSocket | undefined {
  const secureContext = ctx.secureContext();
  if (!secureContext) {
    cb(new Error('upstream TLS secrets are not available yet'), null);
    return undefined;
  }
  const alpn = o.alpn ?? ctx.alpn;
  const sessions = ctx.sessions;
  const server = `${o.host}:${o.port}/${ctx.sni ?? ''}`;
  const offered = sessions?.get(secureContext, server);
  const s = nodeTls.connect({
    host: o.host,
    port: o.port,
    secureContext,
    ...(ctx.sni ? { servername: ctx.sni } : {}),
    ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
    rejectUnauthorized: ctx.verifies,
    checkServerIdentity: () => undefined,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    ...(o.onread ? { onread: o.onread } : {}),
    ...(o.socket ? { socket: o.socket } : {}),
    ...(offered ? { session: offered.session } : {}),
  });
  s.setNoDelay(true);
  const timer = setTimeout(
    () => s.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
    o.timeoutMs,
  );
  let done = false;
  /** The verified peer certificate, once the handshake passed. */
  let peer: tls.PeerCertificate | undefined;
  /** A session issued before the peer was verified (TLS 1.2 sends it inside the handshake). */
  let early: Buffer | undefined;
  const finish = (err: Error | null): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (err) {
      s.destroy();
      cb(err, null);
    } else cb(null, s);
  };
  s.once('secureConnect', () => {
    const resumed = offered !== undefined && s.isSessionReused();
    if (offered && !resumed) sessions?.drop(secureContext, server, offered.session);
    const cert = resumed ? offered.peer : s.getPeerCertificate();
    const why = ctx.verifyPeer(cert);
    if (!why) {
      peer = cert;
      if (early) sessions?.put(secureContext, server, { session: early, peer });
      early = undefined;
    }
    finish(why ? Object.assign(new Error(why), { code: 'ECONNREFUSED' }) : null);
  });
  if (sessions)
    s.on('session', (session: Buffer) => {
      if (peer) sessions.put(secureContext, server, { session, peer });
      else if (!done) early = session;
    });
  s.once('error', (e) => finish(e));
  return s;
}

/** A connector in undici's shape for HTTP/1.1 pools over TLS. */
export function undiciTlsConnector(ctx: TlsContext, timeoutMs: number, localAddress?: string) {
  return (
    opts: { hostname: string; port: string },
    callback: (...args: [null, net.Socket] | [Error, null]) => void,
  ): void => {
    connectTls(
      ctx,
      {
        host: opts.hostname,
        port: Number(opts.port),
        alpn: alpnFor(ctx.alpn, 'http/1.1'),
        timeoutMs,
        localAddress,
      },
      (err, s) => {
        if (err || !s) callback(err ?? new Error('TLS connect failed'), null);
        else callback(null, s);
      },
    );
  };
}

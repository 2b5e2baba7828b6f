// A bound listener: accepts connections, recovers the original destination (use_original_dst)
// and hands the connection to the listener matching it, runs the listener filters (TLS and HTTP
// inspectors), selects the filter chain and gives the connection to its network filter
// (http_connection_manager or tcp_proxy). A configuration update swaps the filter chains at once:
// new connections see the new chains, established ones finish on the old.
import net from 'node:net';
import type tls from 'node:tls';
import type { tlsV3 } from '@skein/api-types';
import {
  compileTlsContext,
  DOWNSTREAM_TLS,
  peerUri,
  type TlsContext,
} from '../transport-socket/tls-context.js';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Http1ServerConnection } from '../http-connection-manager/http1-server-connection.js';
import { LEGACY_HTTP1 } from '../codec/http1-path.js';
import type { Duplex } from 'node:stream';
import type { listenerV3, listenerComponentsV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import { toNetAddress, formatNetAddress, type NetAddress } from '../util/address.js';
import { HttpConnectionManager, type HcmJson } from '../http-connection-manager/connection-manager.js';
import { TcpProxy, type TcpProxyJson } from '../tcp-proxy/tcp-proxy.js';
import type {
  DownstreamConnection,
  ListenerInfo,
  ProxyContext,
} from '../http-connection-manager/proxy-context.js';
import { selectFilterChain } from '../filter-chain/select-filter-chain.js';
import { inspect, detectHttp } from './inspect-connection.js';
import { originalSourceUnavailable, originalSrcMark } from './original-src.js';
import { makeTransparent } from './original-dst.js';
import { PrefixedSocket } from './prefixed-socket.js';
import { initialFetchTimeoutMs } from '../xds/initial-fetch.js';
import { checkPolicy, statsPolicyOf } from '../stats/stats-config.js';
import {
  ON_STREAM_IDLE,
  replyHeaderTimeout,
  type IdleTarget,
} from '../http-connection-manager/stream-timeouts.js';
import { PEER_EXCHANGE_ALPN } from '../tcp-proxy/peer-exchange.js';
import {
  connectionLimitsOf,
  RequestHeadersTimer,
  watchConnectionDuration,
} from '../http-connection-manager/connection-timers.js';
import { nodeTls } from '../util/node-builtins.js';
import type { BoundSocket } from './listen-socket.js';
import { serveHttp2 } from '../http-connection-manager/http2-server-session.js';
import { watchNodeHttpConnection } from '../http-connection-manager/node-http-connection-timers.js';
import {
  connectionDenied,
  NETWORK_RBAC_TYPE,
  networkRbacOf,
  type NetworkRbac,
} from '../filter-chain/network-rbac.js';

const T = 'type.googleapis.com/envoy.extensions.filters.';
const HCM_TYPE = `${T}network.http_connection_manager.v3.HttpConnectionManager`;
const TCP_TYPE = `${T}network.tcp_proxy.v3.TcpProxy`;

export type OriginalDstResolver = (socket: net.Socket) => { address: string; port: number } | undefined;

interface CompiledChain {
  json: listenerComponentsV3.FilterChainJson;
  /** Why this chain cannot serve (e.g. a TLS transport socket): matching connections are closed. */
  unsupported?: string;
  /** The DownstreamTlsContext terminating TLS on this chain. */
  tls?: TlsContext;
  /** Network RBAC filters before the terminal filter. */
  rbac?: NetworkRbac[];
  hcm?: HttpConnectionManager;
  h1?: http.Server;
  /** Connections on the raw-socket HTTP/1.1 codec, and whether the chain is draining. */
  raw?: { conns: Set<Http1ServerConnection>; draining: boolean };
  /** Drains the HTTP/1 connections of a replaced chain (Envoy's drain on a listener update). */
  drainH1?: () => void;
  tcp?: TcpProxy;
}

export interface ListenerHooks {
  /** Finds another listener for an original destination (use_original_dst handoff). */
  handoff(dst: { address: string; port: number }): ActiveListener | undefined;
  originalDst: OriginalDstResolver;
  /** Bind with SO_REUSEPORT so several worker threads accept on one port. */
  reusePort: boolean;
}

interface H1Conn {
  conn: DownstreamConnection;
  hcm: HttpConnectionManager;
  /** A request head was parsed (its response; none for an upgrade): disarms request_headers_timeout. */
  headersSeen?: (res?: ServerResponse) => void;
}
const conns = new WeakMap<net.Socket, H1Conn>();

/** Counts a malformed downstream request (response flag DPE). */
function countDpe(ctx: ProxyContext, hcm: HttpConnectionManager): void {
  ctx.stats.inc('http.{envoy_http_conn_manager_prefix}.response_flag.DPE', {
    envoy_http_conn_manager_prefix: hcm.config.statPrefix ?? 'http',
  });
}

/**
 * Hands an HTTP/1 connection to its HCM, with the request headers timeout armed: on the raw-socket
 * codec, which gives upgrades, CONNECT and HTTP/1.0 to the chain's node:http server (`h1`).
 */
function serveH1(
  chain: CompiledChain,
  socket: net.Socket,
  c: H1Conn,
  ctx: ProxyContext,
  opts: { raw: boolean; headersTimer: boolean } = { raw: !LEGACY_HTTP1, headersTimer: true },
  /** Bytes a listener filter already read from the socket (the codec sniffing). */
  prefix?: Buffer,
): void {
  const ms = opts.headersTimer ? c.hcm.timeouts.requestHeadersMs : 0;
  const headerTimeout = (): void =>
    ctx.stats.inc('http.{envoy_http_conn_manager_prefix}.downstream_rq_header_timeout', {
      envoy_http_conn_manager_prefix: c.hcm.config.statPrefix ?? 'http',
    });
  const raw = chain.raw;
  if (opts.raw && raw) {
    const hcm = c.hcm;
    // request_headers_timeout for every request; max_connection_duration (connection-timers.ts).
    const headers =
      ms > 0
        ? new RequestHeadersTimer(ms, () => {
            headerTimeout();
            replyHeaderTimeout(socket);
          })
        : undefined;
    const limits = connectionLimitsOf(hcm.config);
    const duration =
      limits.maxDurationMs > 0
        ? watchConnectionDuration(
            limits,
            { closeIfIdle: () => rc.closeIfIdle(), destroy: () => socket.destroy() },
            () =>
              ctx.stats.inc('http.{envoy_http_conn_manager_prefix}.downstream_cx_max_duration_reached', {
                envoy_http_conn_manager_prefix: hcm.config.statPrefix ?? 'http',
              }),
          )
        : undefined;
    const rc = new Http1ServerConnection(
      socket,
      {
        onRequest: (req, res) =>
          hcm.handle(req as unknown as IncomingMessage, res as unknown as ServerResponse, c.conn),
        fallback: (s, unconsumed) => {
          // node:http takes the connection over with its own timers (the head it gets back is
          // complete, so its request_headers_timeout disarms at once).
          raw.conns.delete(rc);
          headers?.headComplete();
          duration?.clear();
          s.unshift(unconsumed);
          serveH1(chain, s, { conn: c.conn, hcm }, ctx, { raw: false, headersTimer: true });
        },
        onProtocolError: () => countDpe(ctx, hcm),
        ...(headers ? { onHeadStart: headers.headStarted, onHeadersSeen: headers.headComplete } : {}),
        streamIdleMs: hcm.timeouts.streamIdleMs,
        idleTimeoutMs: hcm.idleTimeoutMs,
        draining: duration ? () => raw.draining || duration.draining() : () => raw.draining,
      },
      prefix,
    );
    raw.conns.add(rc);
    socket.once('close', () => {
      raw.conns.delete(rc);
      headers?.headComplete();
      duration?.clear();
    });
    return;
  }
  if (prefix && prefix.length > 0) socket.unshift(prefix);
  // request_headers_timeout for every request, max_connection_duration (node-http-connection-timers.ts).
  c.headersSeen = watchNodeHttpConnection(socket, c.hcm.config, ms, {
    onHeaderTimeout: headerTimeout,
    onMaxDuration: () =>
      ctx.stats.inc('http.{envoy_http_conn_manager_prefix}.downstream_cx_max_duration_reached', {
        envoy_http_conn_manager_prefix: c.hcm.config.statPrefix ?? 'http',
      }),
  }).headComplete;
  conns.set(socket, c);
  chain.h1?.emit('connection', socket);
}

function compileChains(
  config: listenerV3.ListenerJson,
  info: ListenerInfo,
  ctx: ProxyContext,
): {
  chains: CompiledChain[];
  fallback: CompiledChain | undefined;
} {
  const compile = (fc: listenerComponentsV3.FilterChainJson): CompiledChain => {
    const tsType = fc.transportSocket?.typedConfig?.['@type'] ?? '';
    let tlsCtx: TlsContext | undefined;
    if (tsType === DOWNSTREAM_TLS) {
      tlsCtx = compileTlsContext(
        fc.transportSocket?.typedConfig as tlsV3.DownstreamTlsContextJson,
        'downstream',
        ctx.secrets,
      );
    } else if (fc.transportSocket && !tsType.endsWith('RawBuffer')) {
      // Kept so filter chain matching stays exact; connections that match it are refused and counted.
      return {
        json: fc,
        unsupported: `transport_socket ${tsType || (fc.transportSocket.name ?? '')} is not supported`,
      };
    }
    const filters = fc.filters ?? [];
    const terminal = filters[filters.length - 1];
    const rbac: NetworkRbac[] = [];
    let chainInfo = info;
    for (const f of filters.slice(0, -1)) {
      const t = f.typedConfig?.['@type'];
      const metricsPolicy = statsPolicyOf(f);
      if (metricsPolicy) {
        checkPolicy(metricsPolicy);
        chainInfo = { ...info, metricsPolicy };
        continue;
      }
      if (t !== NETWORK_RBAC_TYPE) {
        throw new Error(
          `network filter ${f.name ?? ''} (${t ?? 'no type'}) before the terminal filter is not supported`,
        );
      }
      rbac.push(networkRbacOf(f.typedConfig as Record<string, unknown>));
    }
    const extra = { ...(tlsCtx ? { tls: tlsCtx } : {}), ...(rbac.length > 0 ? { rbac } : {}) };
    const type = terminal?.typedConfig?.['@type'];
    if (type === HCM_TYPE) {
      const hcm = new HttpConnectionManager(terminal?.typedConfig as HcmJson, chainInfo, ctx);
      const h1 = http.createServer({
        keepAliveTimeout: hcm.idleTimeoutMs,
        requestTimeout: 0,
        headersTimeout: 60_000,
      });
      h1.keepAliveTimeout = hcm.idleTimeoutMs;
      // The HCM's stream idle timeout on each request's socket (Node arms and restarts it); it
      // reaches the stream through its response (stream-timeouts.ts).
      h1.timeout = hcm.timeouts.streamIdleMs;
      h1.on('timeout', (sock: net.Socket) => {
        const res = (sock as net.Socket & { _httpMessage?: IdleTarget | null })._httpMessage;
        const idle = res?.[ON_STREAM_IDLE];
        if (idle) idle.streamIdle();
        else sock.destroy();
      });
      // h1 never listens, so Node does not track its connections (closeIdleConnections is a no-op).
      const open = new Set<net.Socket>();
      let draining = false;
      h1.on('connection', (sock: net.Socket) => {
        open.add(sock);
        sock.once('close', () => open.delete(sock));
      });
      const raw = { conns: new Set<Http1ServerConnection>(), draining: false };
      const drainH1 = (): void => {
        draining = true;
        raw.draining = true;
        // Idle connections close after the HCM's drain_timeout (Envoy's 5 s), not at once: a
        // client's pooled connection may carry a request on its way here, which a close now would
        // fail. Busy ones close after their current response (connection: close).
        const closeIdle = (): void => {
          for (const rc of raw.conns) rc.closeIfIdle();
          for (const sock of open)
            if (!(sock as net.Socket & { _httpMessage?: unknown })._httpMessage) sock.end(); // idle
        };
        setTimeout(closeIdle, hcm.drainTimeoutMs).unref();
      };
      h1.on('request', (req, res) => {
        // A request on a replaced chain is answered, then its connection closes.
        if (draining) res.shouldKeepAlive = false;
        const c = conns.get(req.socket);
        c?.headersSeen?.(res);
        if (c) c.hcm.handle(req, res, c.conn);
      });
      h1.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
        const c = conns.get(req.socket);
        c?.headersSeen?.();
        if (c) c.hcm.handleUpgrade(req, socket, head, c.conn);
        else socket.destroy();
      });
      // A malformed request: 400 and close, counted as a downstream protocol error (DPE).
      h1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
        if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
        countDpe(ctx, hcm);
        socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      });
      return { json: fc, hcm, h1, raw, drainH1, ...extra };
    }
    if (type === TCP_TYPE) {
      const tcp = new TcpProxy(terminal?.typedConfig as TcpProxyJson, chainInfo, ctx);
      return { json: fc, tcp, ...extra };
    }
    throw new Error(
      `filter chain ${fc.name ?? ''}: network filter ${type ?? terminal?.name ?? '(none)'} is not supported`,
    );
  };
  return {
    chains: (config.filterChains ?? []).map(compile),
    fallback: config.defaultFilterChain ? compile(config.defaultFilterChain) : undefined,
  };
}

export class ActiveListener {
  readonly name: string;
  readonly address: NetAddress;
  private chains: CompiledChain[] = [];
  private fallback: CompiledChain | undefined;
  private server: net.Server | undefined;
  private inspectTls = false;
  private inspectHttp = false;
  private recoverOriginalDst = false;
  /** original_src listener filter: its mark, when the listener has it. */
  private originalSrcMark: number | undefined;
  private filtersTimeoutMs = 15_000;
  private readonly sockets = new Set<net.Socket>();
  config: listenerV3.ListenerJson;
  info: ListenerInfo;

  constructor(
    config: listenerV3.ListenerJson,
    private readonly ctx: ProxyContext,
    private readonly hooks: ListenerHooks,
  ) {
    this.name = config.name ?? '';
    this.address = toNetAddress(config.address, `listener ${this.name}`);
    this.config = config;
    this.info = this.infoOf(config);
    this.update(config);
  }

  private infoOf(config: listenerV3.ListenerJson): ListenerInfo {
    const dir = config.trafficDirection;
    return {
      name: this.name,
      statPrefix: config.statPrefix ?? formatNetAddress(this.address),
      direction: dir === 'INBOUND' || dir === 'OUTBOUND' ? dir : undefined,
    };
  }

  /** Validates a listener resource without binding it (throws with the reason). */
  static validate(config: listenerV3.ListenerJson, ctx: ProxyContext): void {
    toNetAddress(config.address, `listener ${config.name ?? ''}`);
    compileChains(config, { name: config.name ?? '', statPrefix: '', direction: undefined }, ctx);
  }

  /** RDS names this listener's HTTP connection managers need. */
  static routeNames(config: listenerV3.ListenerJson): string[] {
    const out: string[] = [];
    for (const fc of [
      ...(config.filterChains ?? []),
      ...(config.defaultFilterChain ? [config.defaultFilterChain] : []),
    ]) {
      for (const f of fc.filters ?? []) {
        const tc = f.typedConfig as HcmJson | undefined;
        if (tc?.['@type' as keyof HcmJson] === HCM_TYPE && tc.rds?.routeConfigName)
          out.push(tc.rds.routeConfigName);
      }
    }
    return out;
  }

  /** Each RDS name the listener's HCMs use with its config source's initial_fetch_timeout (ms). */
  static rdsWaits(config: listenerV3.ListenerJson): { name: string; timeoutMs: number }[] {
    const out: { name: string; timeoutMs: number }[] = [];
    for (const fc of [
      ...(config.filterChains ?? []),
      ...(config.defaultFilterChain ? [config.defaultFilterChain] : []),
    ]) {
      for (const f of fc.filters ?? []) {
        const tc = f.typedConfig as HcmJson | undefined;
        if (tc?.['@type' as keyof HcmJson] !== HCM_TYPE || !tc.rds?.routeConfigName) continue;
        const timeoutMs = initialFetchTimeoutMs(tc.rds.configSource, durationMs);
        out.push({ name: tc.rds.routeConfigName, timeoutMs });
      }
    }
    return out;
  }

  /** Swaps in a new configuration of the same address: one assignment, so no connection sees half. */
  update(config: listenerV3.ListenerJson): void {
    const info = this.infoOf(config);
    const compiled = compileChains(config, info, this.ctx);
    const filters = (config.listenerFilters ?? []).map((f) => f.typedConfig?.['@type'] ?? f.name ?? '');
    const old = this.chains;
    this.config = config;
    this.info = info;
    this.chains = compiled.chains;
    this.fallback = compiled.fallback;
    this.inspectTls = filters.some(
      (t) => t.endsWith('TlsInspector') || t === 'envoy.filters.listener.tls_inspector',
    );
    this.inspectHttp = filters.some(
      (t) => t.endsWith('HttpInspector') || t === 'envoy.filters.listener.http_inspector',
    );
    this.recoverOriginalDst = filters.some(
      (t) => t.endsWith('.OriginalDst') || t === 'envoy.filters.listener.original_dst',
    );
    this.originalSrcMark = originalSrcMark(config.listenerFilters);
    const noSource = this.originalSrcMark === undefined ? undefined : originalSourceUnavailable();
    if (noSource)
      this.ctx.log.error('original source unavailable: upstream connections leave from the proxy address', {
        listener: this.name,
        error: noSource,
      });
    this.filtersTimeoutMs = durationMs(config.listenerFiltersTimeout) ?? 15_000;
    // Old chains' HTTP/1 connections: idle ones close now, busy ones after their current response.
    for (const c of old) c.drainH1?.();
  }

  /**
   * Listens: on `bound`, the socket bound at the listener's creation (listen-socket.ts), if any;
   * else on its address, with `port` instead of a configured 0 (a worker thread sharing the port
   * the primary got).
   */
  async bind(bound?: BoundSocket, port?: number): Promise<void> {
    if (this.config.bindToPort === false) return bound?.close();
    const server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const a = this.address;
      if (bound) server.listen(bound.handle, resolve);
      else if (a.kind === 'pipe') server.listen(a.path, resolve);
      else
        server.listen(
          { host: a.host, port: port ?? a.port, exclusive: false, reusePort: this.hooks.reusePort },
          resolve,
        );
    });
    server.on('error', (err) =>
      this.ctx.log.error('listener error', { listener: this.name, error: String(err) }),
    );
    // `transparent`: iptables TPROXY delivers connections for other addresses to this socket.
    if (this.config.transparent) {
      const why = makeTransparent(server);
      if (why) this.ctx.log.error('listener cannot be transparent', { listener: this.name, error: why });
    }
  }

  /** The bound address (the real port when the configured one was 0). */
  boundAddress(): { address: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  private accept(socket: net.Socket): void {
    const { stats } = this.ctx;
    const lt = { envoy_listener_address: this.info.statPrefix };
    stats.inc('listener.{envoy_listener_address}.downstream_cx_total', lt);
    stats.inc('listener.{envoy_listener_address}.worker_{worker_id}.downstream_cx_total', {
      ...lt,
      worker_id: String(this.ctx.workerId),
    });
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    let originalDst: { address: string; port: number } | undefined;
    // the original_dst listener filter restores the destination for filter-chain matching (the
    // 15006 inbound listener); use_original_dst also hands the connection to the listener that
    // owns that destination (the 15001 outbound listener)
    if (this.recoverOriginalDst && !this.config.useOriginalDst) originalDst = this.hooks.originalDst(socket);
    if (this.config.useOriginalDst) {
      originalDst = this.hooks.originalDst(socket) ?? local;
      const target = this.hooks.handoff(originalDst);
      if (target && target !== this) {
        target.handle(socket, originalDst);
        return;
      }
    }
    this.handle(socket, originalDst);
  }

  /** Runs listener filters and the filter chain for a connection (also for handed-off ones). */
  handle(socket: net.Socket, originalDst: { address: string; port: number } | undefined): void {
    const conn: DownstreamConnection = {
      remoteAddress: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      remotePort: socket.remotePort ?? 0,
      localAddress: originalDst?.address ?? (socket.localAddress ?? '').replace(/^::ffff:/, ''),
      localPort: originalDst?.port ?? socket.localPort ?? 0,
      originalDst,
      tls: false,
    };
    if (this.originalSrcMark !== undefined)
      conn.originalSource = { address: conn.remoteAddress, mark: this.originalSrcMark };
    const facts = {
      destinationIp: conn.localAddress,
      destinationPort: conn.localPort,
      sourceIp: conn.remoteAddress,
      sourcePort: conn.remotePort,
    };
    const needsPeek = this.inspectTls || this.inspectHttp;
    if (!needsPeek) {
      const chain = selectFilterChain(
        this.chains.map((c) => c.json),
        { ...facts, serverName: undefined, transportProtocol: 'raw_buffer', applicationProtocols: [] },
        this.fallback?.json,
      );
      this.dispatch(socket, conn, this.find(chain), undefined);
      return;
    }
    this.peek(
      socket,
      (prefix) => {
        const ins = inspect(prefix, { tls: this.inspectTls, http: this.inspectHttp });
        const chain = selectFilterChain(
          this.chains.map((c) => c.json),
          {
            ...facts,
            serverName: ins.serverName,
            transportProtocol: ins.transportProtocol,
            applicationProtocols: ins.applicationProtocols,
          },
          this.fallback?.json,
        );
        this.dispatch(socket, conn, this.find(chain), prefix);
      },
      (p) => !inspect(p, { tls: this.inspectTls, http: this.inspectHttp }).complete,
    );
  }

  private find(json: listenerComponentsV3.FilterChainJson | undefined): CompiledChain | undefined {
    if (!json) return undefined;
    return (
      this.chains.find((c) => c.json === json) ?? (this.fallback?.json === json ? this.fallback : undefined)
    );
  }

  /** Reads the first bytes of a connection (until `more` says enough, or timeout), then continues. */
  private peek(socket: net.Socket, then: (prefix: Buffer) => void, more: (p: Buffer) => boolean): void {
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', finish);
      socket.pause();
      then(buf);
    };
    const onData = (d: Buffer): void => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (!more(buf) || buf.length >= 16384) finish();
    };
    const timer = setTimeout(() => {
      if (this.config.continueOnListenerFiltersTimeout) finish();
      else socket.destroy();
    }, this.filtersTimeoutMs);
    socket.on('data', onData);
    socket.once('end', finish);
  }

  private dispatch(
    socket: net.Socket,
    conn: DownstreamConnection,
    chain: CompiledChain | undefined,
    prefix: Buffer | undefined,
  ): void {
    if (!chain) {
      this.ctx.stats.inc('listener.{envoy_listener_address}.no_filter_chain_match', {
        envoy_listener_address: this.info.statPrefix,
      });
      socket.destroy();
      return;
    }
    if (chain.unsupported) {
      this.ctx.stats.inc('listener.{envoy_listener_address}.unsupported_filter_chain', {
        envoy_listener_address: this.info.statPrefix,
      });
      this.ctx.log.warn('connection matched an unsupported filter chain', {
        listener: this.name,
        chain: chain.json.name ?? '',
        reason: chain.unsupported,
      });
      socket.destroy();
      return;
    }
    if (chain.tls) {
      this.terminateTls(socket, conn, chain, chain.tls, prefix);
      return;
    }
    if (this.deniedByRbac(chain, conn, undefined)) return void socket.destroy();
    if (chain.tcp) {
      if (prefix && prefix.length > 0) socket.unshift(prefix);
      // tcp_proxy resumes the socket once its upstream is connected.
      chain.tcp.handle(socket, conn);
      return;
    }
    const hcm = chain.hcm;
    if (!hcm || !chain.h1) return void socket.destroy();
    const codec = hcm.config.codecType ?? 'AUTO';
    const serve = (p: Buffer): void => {
      const isH2 =
        codec === 'HTTP2' || (codec === 'AUTO' && detectHttp(p).applicationProtocols.includes('h2c'));
      if (isH2) {
        serveHttp2(hcm, conn, new PrefixedSocket(socket, p), this.ctx);
        socket.resume();
      } else {
        serveH1(chain, socket, { conn, hcm }, this.ctx, undefined, p);
        socket.resume();
      }
    };
    if (prefix !== undefined || codec !== 'AUTO') serve(prefix ?? Buffer.alloc(0));
    else this.peek(socket, serve, (p) => !detectHttp(p).complete);
  }

  /** Runs the chain's network RBAC filters; true (and counted) when the connection is denied. */
  private deniedByRbac(chain: CompiledChain, conn: DownstreamConnection, sni: string | undefined): boolean {
    if (!chain.rbac) return false;
    const denied = connectionDenied(chain.rbac, conn, sni);
    if (denied === undefined) return false;
    this.ctx.stats.inc('{envoy_rbac_prefix}rbac.denied', { envoy_rbac_prefix: denied });
    return true;
  }

  /** Terminates TLS (DownstreamTlsContext), verifies the peer, then runs the chain's filter on the TLS stream. */
  private terminateTls(
    socket: net.Socket,
    conn: DownstreamConnection,
    chain: CompiledChain,
    ctx: TlsContext,
    prefix: Buffer | undefined,
  ): void {
    const lt = { envoy_listener_address: this.info.statPrefix };
    // Several certificates: the ClientHello's server name chooses among them, before the
    // handshake starts (OpenSSL loses the per-key-type choice when SNICallback swaps contexts).
    if (ctx.certificateCount > 1 && prefix === undefined) {
      const hello = (p: Buffer): boolean => !inspect(p, { tls: true, http: false }).complete;
      this.peek(socket, (p) => this.terminateTls(socket, conn, chain, ctx, p), hello);
      return;
    }
    const serverName =
      ctx.certificateCount > 1 && prefix ? inspect(prefix, { tls: true, http: false }).serverName : undefined;
    const secureContext = ctx.secureContextFor(serverName);
    if (!secureContext) {
      this.ctx.stats.inc('listener.{envoy_listener_address}.ssl.secrets_not_ready', lt);
      socket.destroy();
      return;
    }
    // A mesh client offering istio-peer-exchange to a tcp_proxy chain gets it: both sides then
    // exchange workload metadata in front of the byte stream (tcp-proxy/peer-exchange.ts).
    const offered = prefix ? inspect(prefix, { tls: true, http: false }).applicationProtocols : [];
    const alpn =
      chain.tcp && offered.includes(PEER_EXCHANGE_ALPN)
        ? [PEER_EXCHANGE_ALPN, ...ctx.alpn.filter((p) => p !== PEER_EXCHANGE_ALPN)]
        : ctx.alpn;
    // Bytes a listener filter already read (the ClientHello the TLS inspector peeked) go back into
    // the socket's buffer: TLSSocket hands buffered bytes to its native handle before it reads
    // more, so TLS stays on the socket's own handle instead of running over a JS stream.
    const peeked = prefix !== undefined && prefix.length > 0;
    if (peeked) {
      if (socket.readableEnded) return void socket.destroy();
      socket.unshift(prefix);
    }
    const t = new nodeTls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      requestCert: ctx.requireClientCertificate || ctx.verifies,
      rejectUnauthorized: ctx.requireClientCertificate,
      ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
    });
    // A paused socket with buffered bytes must stay paused: resuming would emit them as 'data'.
    if (!peeked) socket.resume();
    t.on('error', (err) => {
      this.ctx.stats.inc('listener.{envoy_listener_address}.ssl.connection_error', lt);
      this.ctx.log.debug('TLS connection error', { listener: this.name, error: String(err) });
      t.destroy();
      socket.destroy();
    });
    t.once('secure', () => {
      const peer = t.getPeerCertificate();
      const hasPeer = Object.keys(peer).length > 0;
      const why = hasPeer
        ? ctx.verifyPeer(peer)
        : ctx.requireClientCertificate
          ? 'no client certificate'
          : undefined;
      if (why) {
        this.ctx.stats.inc('listener.{envoy_listener_address}.ssl.fail_verify_san', lt);
        this.ctx.log.warn('TLS peer rejected', { listener: this.name, reason: why });
        t.destroy();
        return;
      }
      this.ctx.stats.inc('listener.{envoy_listener_address}.ssl.handshake', lt);
      const tlsConn: DownstreamConnection = { ...conn, tls: true };
      if (t.alpnProtocol) tlsConn.alpn = t.alpnProtocol;
      const principal = hasPeer ? peerUri(peer) : undefined;
      if (principal) tlsConn.peerPrincipal = principal;
      if (hasPeer)
        tlsConn.clientCert = { peer, local: () => t.getCertificate() as tls.PeerCertificate | null };
      if (this.deniedByRbac(chain, tlsConn, t.servername || undefined)) return void t.destroy();
      if (chain.tcp) {
        chain.tcp.handle(t, tlsConn);
        return;
      }
      const hcm = chain.hcm;
      if (!hcm || !chain.h1) return void t.destroy();
      if (t.alpnProtocol === 'h2' || hcm.config.codecType === 'HTTP2') {
        serveHttp2(hcm, tlsConn, t, this.ctx);
      } else {
        serveH1(chain, t, { conn: tlsConn, hcm }, this.ctx);
      }
    });
  }

  /** Stops accepting; established connections continue (Envoy's drain). */
  async drain(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    const done = this.drain();
    for (const s of this.sockets) s.destroy();
    for (const c of this.chains) c.h1?.closeAllConnections();
    await done;
  }
}

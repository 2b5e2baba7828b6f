// Pooled upstream HTTP/1.1 keep-alive connections to one host on raw `net` (or TLS) sockets: writes the
// request (buffered or streamed body, Content-Length or chunked), parses the response with the
// codec in ../codec, streams its body with backpressure and returns the connection to the pool when
// both directions are complete and neither side asked to close.
import net from 'node:net';
import type tls from 'node:tls';
import type { TlsContext } from '../transport-socket/tls-context.js';
import { alpnFor, connectTls } from '../transport-socket/upstream-tls.js';
import { writeTlsDirect } from '../transport-socket/tls-direct-write.js';
import { Readable } from 'node:stream';
import type { AbortLike } from '../router/cancel.js';
import { BodyDecoder, chunkHeader, fieldLines, lastChunk } from '../codec/http1-body.js';
import {
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  parseResponseHead,
  responseBodyLength,
  responseFraming,
  type HeaderMap,
} from '../codec/http1-head.js';
import { connectFromSource, type OriginalSource } from '../listener/original-src.js';
import type { Host } from './host.js';
import type { PoolOptions } from './upstream-pools.js';
import { writeDirectLatin1 } from '../http-connection-manager/direct-write.js';

export interface Http1PoolOptions {
  /** Originate TLS with this context (the cluster's or the endpoint's transport socket). */
  tls?: TlsContext | undefined;
  connectTimeoutMs: number;
  maxConnections: number;
  idleTimeoutMs: number;
  /** max_connection_duration: from connect, then closed (at once when idle, else after its exchange). */
  maxConnectionDurationMs?: number;
  onMaxDuration?: () => void;
  sourceAddress?: string | undefined;
  /** original_src: connections leave from this (non-local) address instead (plain text only). */
  originalSource?: OriginalSource | undefined;
  /** Called for each new connection (upstream_cx_total). */
  onConnect?: () => void;
}

export interface Http1Exchange {
  method: string;
  path: string;
  authority: string;
  headers: Record<string, string | string[]>;
  body: Buffer | Readable | undefined;
  /** An AbortSignal, or any token with its abort members (the router's Cancel). */
  signal: AbortLike;
}

export interface Http1Response {
  status: number;
  headers: HeaderMap;
  body: Readable;
  trailers: Promise<Record<string, string>>;
  /**
   * The whole body, when it arrived with the head (a Content-Length body in the same read, or no
   * body): a reader may take it from here and never touch `body`, which is then not even built.
   */
  complete?: Buffer | undefined;
}

/** The read buffer of every plain-text upstream socket (reads are handled one at a time). */
const READ_BUFFER = new Uint8Array(64 * 1024);
const NO_TRAILERS: Promise<Record<string, string>> = Promise.resolve({});
const EMPTY = Buffer.alloc(0);

/** A response received whole: `body` is made only for a reader that asks for a stream. */
class CompleteResponse implements Http1Response {
  private stream: Readable | undefined;
  readonly trailers = NO_TRAILERS;
  constructor(
    readonly status: number,
    readonly headers: HeaderMap,
    readonly complete: Buffer,
  ) {}
  get body(): Readable {
    if (!this.stream) {
      const s = new Readable({ read: () => undefined });
      if (this.complete.length > 0) s.push(this.complete);
      s.push(null);
      this.stream = s;
    }
    return this.stream;
  }
}

/** A connect attempt that did not finish within the cluster's connect timeout. */
export class ConnectTimeoutError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
}

const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/i;

/**
 * One exchange waiting for or on a connection, told its outcome once: `resolve` with the response
 * head (its body may still stream), or `reject` with why it failed. The router's single attempt is
 * one (it is also its own exchange), so the common request allocates no promise here.
 */
export interface Http1Pending {
  readonly x: Http1Exchange;
  resolve(r: Http1Response): void;
  reject(e: unknown): void;
}

type Pending = Http1Pending;

/** Whether a streamed request body goes chunked: it has no Content-Length of its own. */
function sendsChunked(x: Http1Exchange): boolean {
  const b = x.body;
  return b !== undefined && !Buffer.isBuffer(b) && typeof x.headers['content-length'] !== 'string';
}

/** The request line and header fields, with the framing this proxy chooses for the body. */
function requestHead(x: Http1Exchange): string {
  let head = `${x.method} ${x.path} HTTP/1.1\r\nhost: ${x.authority}\r\n`;
  const h = x.headers;
  for (const k in h) {
    if (k === 'host' || k === 'content-length' || k === 'transfer-encoding' || k === 'connection') continue;
    head += fieldLines(k, h[k]);
  }
  const b = x.body;
  if (Buffer.isBuffer(b)) head += `content-length: ${b.length}\r\n`;
  else if (b) {
    const cl = h['content-length'];
    if (typeof cl === 'string') head += `content-length: ${cl}\r\n`;
    else head += 'transfer-encoding: chunked\r\n';
  } else if (h['content-length'] !== undefined) head += `content-length: ${String(h['content-length'])}\r\n`;
  else if (PAYLOAD_METHODS.has(x.method)) head += 'content-length: 0\r\n';
  return head + '\r\n';
}

class Connection {
  readonly socket: net.Socket;
  private pending: Pending | undefined;
  private headBuf: Buffer | undefined;
  /** Reads arrive in READ_BUFFER, reused by the next read: bytes kept past onData are copied. */
  private shared = false;
  private scanned = 0;
  private decoder: BodyDecoder | undefined;
  private body: Readable | undefined;
  private resolveTrailers: ((t: Record<string, string>) => void) | undefined;
  private requestDone = false;
  private responseDone = false;
  private closeAfter = false;
  private keepAliveMs: number;
  /** The exchange's abort listener while it is registered (one function per connection). */
  private onAbort: (() => void) | undefined;
  private readonly abortListener = (): void => this.fail(this.signal?.reason);
  private signal: AbortLike | undefined;
  /** Stops streaming the request body (listeners off, the rest drained). */
  private detachBody: (() => void) | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  dead = false;
  /** max_connection_duration reached: closes after the exchange in flight. */
  expired = false;
  private maxDuration: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Http1Pool,
    address: string,
    port: number,
    private readonly opts: Http1PoolOptions,
  ) {
    this.keepAliveMs = opts.idleTimeoutMs;
    if (opts.maxConnectionDurationMs) {
      this.maxDuration = setTimeout(
        () => void (this.dead || pool.expire(this)),
        opts.maxConnectionDurationMs,
      );
      this.maxDuration.unref();
    }
    const connected = (): void => {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      opts.onConnect?.();
    };
    if (opts.tls) {
      // Requests written before the handshake ends wait in the TLS socket; the connection counts
      // once the peer is verified (chain and SAN, by connectTls).
      let early: Error | undefined;
      // original_src: TLS over a socket from the client's address (tls.connect then ignores onread).
      const from = opts.originalSource ? connectFromSource(opts.originalSource, address, port) : undefined;
      const sourced = from && 'socket' in from ? from.socket : undefined;
      const s = connectTls(
        opts.tls,
        {
          host: address,
          port,
          alpn: alpnFor(opts.tls.alpn, 'http/1.1'),
          timeoutMs: opts.connectTimeoutMs,
          localAddress: opts.sourceAddress,
          // Decrypted reads land in the shared buffer too (tls.connect takes net's `onread`).
          onread: { buffer: READ_BUFFER, callback: (n: number, b: Uint8Array) => this.onRead(n, b) },
          socket: sourced,
        },
        (err) => {
          if (!err) connected();
          else if (this.socket) this.fail(err);
          else early = err;
        },
      );
      this.socket = s ?? new net.Socket();
      this.shared = s !== undefined && !sourced;
      if (!s) queueMicrotask(() => this.fail(early ?? new Error('upstream TLS connect failed')));
    } else {
      // Plain-text reads land in one shared buffer handed to onData, bypassing the socket's
      // Readable (no per-read allocation, no stream bookkeeping): onData copies what it keeps.
      const onread = { buffer: READ_BUFFER, callback: (n: number, b: Uint8Array) => this.onRead(n, b) };
      const from = opts.originalSource
        ? connectFromSource(opts.originalSource, address, port, { onread })
        : undefined;
      this.socket =
        from && 'socket' in from
          ? from.socket
          : net.connect({
              host: address,
              port,
              noDelay: true,
              onread,
              ...(opts.sourceAddress ? { localAddress: opts.sourceAddress } : {}),
            });
      if (from && 'socket' in from) this.socket.setNoDelay(true);
      this.shared = true;
      this.socket.once('connect', connected);
    }
    this.connectTimer = setTimeout(
      () => this.fail(new ConnectTimeoutError(`connect timeout after ${opts.connectTimeoutMs} ms`)),
      opts.connectTimeoutMs,
    );
    if (!this.shared) this.socket.on('data', (c: Buffer) => this.onData(c));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () =>
      this.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    );
    // The idle timeout is armed once: Node restarts it on every read and write, and it closes the
    // connection only while no exchange is in progress (no timer work per request).
    this.socket.on('timeout', () => {
      if (!this.pending && !this.body) this.socket.destroy();
    });
    if (this.keepAliveMs > 0) this.socket.setTimeout(this.keepAliveMs);
  }

  /** Sends one exchange on this (idle or new) connection. */
  start(p: Pending): void {
    this.pending = p;
    this.requestDone = false;
    this.responseDone = false;
    this.closeAfter = false;
    const x = p.x;
    this.signal = x.signal;
    this.onAbort = this.abortListener;
    x.signal.addEventListener('abort', this.abortListener, { once: true });
    let head: string;
    try {
      head = requestHead(x);
    } catch (e) {
      return this.fail(e);
    }
    const s = this.socket;
    const b = x.body;
    if (b === undefined) {
      // A bodiless request: the head straight to the handle of a connected plain socket, or of a
      // TLS socket past its handshake (writeTlsDirect).
      if (
        !writeDirectLatin1(s, head) &&
        (this.opts.tls === undefined || !writeTlsDirect(s as tls.TLSSocket, head))
      )
        s.write(head, 'latin1');
      this.requestDone = true;
    } else if (Buffer.isBuffer(b)) {
      s.cork();
      s.write(head, 'latin1');
      if (b.length > 0) s.write(b);
      s.uncork();
      this.requestDone = true;
    } else {
      s.write(head, 'latin1');
      this.streamBody(b, sendsChunked(x));
    }
  }

  private streamBody(b: Readable, chunked: boolean): void {
    const s = this.socket;
    const onDrain = (): void => void b.resume();
    const onData = (c: Buffer): void => {
      if (c.length === 0) return;
      const ok = chunked
        ? (s.write(chunkHeader(c.length), 'latin1'), s.write(c), s.write('\r\n'))
        : s.write(c);
      if (!ok) b.pause();
    };
    const cleanup = (): void => {
      b.off('data', onData);
      b.off('end', onEnd);
      b.off('error', onError);
      s.off('drain', onDrain);
      this.detachBody = undefined;
    };
    const onEnd = (): void => {
      cleanup();
      if (chunked) s.write(lastChunk(), 'latin1');
      this.requestDone = true;
    };
    const onError = (e: Error): void => {
      cleanup();
      this.fail(e);
    };
    this.detachBody = () => {
      cleanup();
      b.resume();
    };
    b.on('data', onData);
    b.once('end', onEnd);
    b.once('error', onError);
    s.on('drain', onDrain);
    if (b.isPaused()) b.resume();
  }

  /** Pausing is explicit (`socket.pause()`), so this always lets the socket read on. */
  private onRead(n: number, b: Uint8Array): boolean {
    this.onData(Buffer.from(b.buffer, b.byteOffset, n));
    return true;
  }

  /** `c` itself, or a copy of it when it lives in the shared read buffer. */
  private own(c: Buffer): Buffer {
    return this.shared ? Buffer.from(c) : c;
  }

  /** `c` from `start` on, as `own` keeps it (the copy made without a view in between). */
  private ownFrom(c: Buffer, start: number): Buffer {
    return this.shared ? Buffer.copyBytesFrom(c, start) : c.subarray(start);
  }

  private onData(chunk: Buffer): void {
    if (!this.pending && !this.body) {
      // Bytes nobody asked for: this connection cannot be trusted any more.
      this.socket.destroy();
      return;
    }
    let buf = chunk;
    try {
      while (buf.length > 0) {
        const d = this.decoder;
        if (d) {
          // Bytes past the end of the response: the server is out of step; drop the connection.
          if (d.feed(buf) < buf.length) this.socket.destroy();
          return;
        }
        const acc: Buffer = this.headBuf ? Buffer.concat([this.headBuf, buf]) : buf;
        const end = findHeadEnd(acc, this.scanned);
        if (end < 0) {
          if (acc.length > DEFAULT_HEAD_LIMITS.maxHeadBytes)
            throw new Error('upstream response head too large');
          this.headBuf = acc === buf ? this.own(acc) : acc;
          this.scanned = acc.length;
          return;
        }
        this.headBuf = undefined;
        this.scanned = 0;
        const head = parseResponseHead(acc, end);
        if (head.status < 200) {
          if (head.status === 101) throw new Error('unexpected upgrade from upstream');
          buf = acc.subarray(end);
          continue; // 100 Continue, 103 Early Hints: the final response follows.
        }
        const method = this.pending?.x.method ?? 'GET';
        const whole = responseBodyLength(head, method);
        if (whole === acc.length - end) {
          // The whole response is in hand (the common small response): no body stream.
          const body = whole === 0 ? EMPTY : this.ownFrom(acc, end);
          this.completeResponse(head.status, head.headers, body, head.close);
          return;
        }
        buf = acc.subarray(end);
        this.startResponse(head.status, head.headers, responseFraming(head, method), head.close);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private keepAliveHint(headers: HeaderMap): void {
    const ka = headers['keep-alive'];
    if (typeof ka === 'string') {
      const m = KEEP_ALIVE_TIMEOUT.exec(ka);
      // A server's hint may shorten, never lengthen, the idle timeout (a second of margin).
      const ms = m ? Math.min(this.keepAliveMs, Math.max(0, Number(m[1]) * 1000 - 1000)) : this.keepAliveMs;
      if (ms !== this.keepAliveMs) {
        this.keepAliveMs = ms;
        if (ms > 0) this.socket.setTimeout(ms);
      }
    }
  }

  private completeResponse(status: number, headers: HeaderMap, body: Buffer, close: boolean): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (close) this.closeAfter = true;
    this.keepAliveHint(headers);
    this.responseDone = true;
    this.finish();
    p.resolve(new CompleteResponse(status, headers, body));
  }

  private startResponse(
    status: number,
    headers: HeaderMap,
    framing: ReturnType<typeof responseFraming>,
    close: boolean,
  ): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (close || framing.kind === 'close') this.closeAfter = true;
    this.keepAliveHint(headers);
    const s = this.socket;
    let ended = false;
    const body = new Readable({
      read: () => {
        if (this.body === body && s.isPaused()) s.resume();
      },
    });
    this.body = body;
    body.once('close', () => {
      // Destroyed by its reader before the end: the rest of it would arrive on a reused connection.
      if (!ended) s.destroy();
    });
    const trailers = new Promise<Record<string, string>>((r) => (this.resolveTrailers = r));
    this.decoder = new BodyDecoder(framing, {
      data: (c) => {
        if (!body.push(this.own(c))) s.pause();
      },
      end: (t) => {
        ended = true;
        this.responseDone = true;
        this.resolveTrailers?.(t);
        body.push(null);
        this.finish();
      },
    });
    p.resolve({ status, headers, body, trailers });
    this.decoder.endIfEmpty();
  }

  /** Both directions are over: back to the pool, or closed. */
  private finish(): void {
    if (this.dead) return;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
    this.signal = undefined;
    this.decoder = undefined;
    this.body = undefined;
    this.resolveTrailers = undefined;
    // A response that ends before its request (an early 413, say) leaves the upstream mid-body.
    if (!this.requestDone || this.closeAfter || this.expired || this.keepAliveMs <= 0) {
      this.detachBody?.();
      this.dead = true;
      this.socket.destroy();
      this.pool.closed(this);
      return;
    }
    this.pool.release(this);
  }

  /** An error, a close or an abort: fails whatever is in flight and drops the connection. */
  fail(err: unknown): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    clearTimeout(this.maxDuration);
    const wasDead = this.dead;
    this.dead = true;
    const p = this.pending;
    const body = this.body;
    const decoder = this.decoder;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
    this.pending = undefined;
    if (p) p.reject(err);
    else if (body && decoder && !this.responseDone) {
      if (!decoder.eof()) body.destroy(err instanceof Error ? err : new Error(String(err)));
    }
    this.detachBody?.();
    this.resolveTrailers?.({});
    this.decoder = undefined;
    this.body = undefined;
    if (!this.socket.destroyed) this.socket.destroy();
    if (!wasDead) this.pool.closed(this);
  }
}

/** Keep-alive HTTP/1.1 connections to one upstream host (one request at a time per connection). */
export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Pending[] = [];
  private closing = false;

  constructor(
    private readonly address: string,
    private readonly port: number,
    private readonly opts: Http1PoolOptions,
  ) {}

  request(x: Http1Exchange): Promise<Http1Response> {
    return new Promise<Http1Response>((resolve, reject) => this.send({ x, resolve, reject }));
  }

  /** Starts `p` on an idle or new connection, or queues it; its outcome goes to `p` itself. */
  send(p: Pending): void {
    const x = p.x;
    if (this.closing) return p.reject(new Error('pool closed'));
    if (x.signal.aborted) return p.reject(x.signal.reason);
    const c = this.idle.pop();
    if (c) return c.start(p);
    if (this.all.size < this.opts.maxConnections) return this.open().start(p);
    this.queue.push(p);
    x.signal.addEventListener(
      'abort',
      () => {
        const i = this.queue.indexOf(p);
        if (i >= 0) {
          this.queue.splice(i, 1);
          p.reject(x.signal.reason);
        }
      },
      { once: true },
    );
  }

  private open(): Connection {
    const c = new Connection(this, this.address, this.port, this.opts);
    this.all.add(c);
    return c;
  }

  /** A connection finished its exchange and may be reused. */
  release(c: Connection): void {
    const next = this.queue.shift();
    if (next) return c.start(next);
    if (this.closing) {
      c.fail(new Error('pool closed'));
      return;
    }
    this.idle.push(c);
  }

  /** max_connection_duration: an idle connection closes now, a busy one after its exchange. */
  expire(c: Connection): void {
    c.expired = true;
    this.opts.onMaxDuration?.();
    if (this.idle.includes(c)) c.fail(new Error('max connection duration reached'));
  }

  /** A connection is gone: forget it and open another for a waiting request. */
  closed(c: Connection): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.queue.shift();
    if (next && !this.closing) this.open().start(next);
  }

  /** No connection open and no request waiting. */
  get unused(): boolean {
    return this.all.size === 0 && this.queue.length === 0;
  }

  /** Closes idle connections now and busy ones when their exchange ends. */
  close(): void {
    this.closing = true;
    for (const c of [...this.idle]) c.fail(new Error('pool closed'));
  }

  /** Drops every connection and fails waiting requests. */
  destroy(): void {
    this.closing = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('pool destroyed'));
    for (const c of [...this.all]) c.fail(new Error('pool destroyed'));
  }
}

/** A raw-socket HTTP/1.1 pool to `host` with the cluster's options, from `source` when given. */
export function newHttp1Pool(opts: PoolOptions, host: Host, source?: OriginalSource): Http1Pool {
  return new Http1Pool(host.address, host.port, {
    tls: opts.tls,
    connectTimeoutMs: opts.connectTimeoutMs,
    maxConnections: opts.maxConnections,
    idleTimeoutMs: opts.idleTimeoutMs,
    maxConnectionDurationMs: opts.maxConnectionDurationMs ?? 0,
    ...(opts.onMaxDuration ? { onMaxDuration: opts.onMaxDuration } : {}),
    sourceAddress: opts.sourceAddress,
    ...(source ? { originalSource: source } : {}),
    onConnect: () => opts.onConnect?.(host),
  });
}

// The downstream side of HTTP/1.1 on a raw `net` socket: parses requests with ../codec, hands
// each to the connection manager as a request/response pair shaped like node:http's (the subset
// the HCM uses), writes responses (Content-Length or chunked, trailers, HEAD/204/304 without a
// body), keeps connections alive, answers pipelined requests in order, and gives upgrades,
// CONNECT and HTTP/1.0 to node:http (`fallback`) with the bytes it has not consumed.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type tls from 'node:tls';
import { Readable } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { BodyDecoder, chunkHeader, fieldLines, lastChunk } from '../codec/http1-body.js';
import {
  DEFAULT_HEAD_LIMITS,
  findHeadEnd,
  HttpParseError,
  parseRequestHead,
  requestFraming,
  type HeaderMap,
  type RequestHead,
} from '../codec/http1-head.js';
import { ON_STREAM_IDLE, type StreamIdleHandler } from './stream-timeouts.js';
import { writeDirect } from './direct-write.js';
import { writeTlsDirect } from '../transport-socket/tls-direct-write.js';

/** What one connection needs from its listener and connection manager. */
export interface Http1ServerHooks {
  /** A parsed request: the HCM's `handle`. */
  onRequest(req: RawRequest, res: RawResponse): void;
  /** Continues the connection on node:http with these unconsumed bytes (upgrade, CONNECT, 1.0). */
  fallback(socket: net.Socket, unconsumed: Buffer): void;
  /** A malformed request was answered with 4xx (the DPE counter). */
  onProtocolError(err: HttpParseError): void;
  /** A request's head is complete (disarms request_headers_timeout). */
  onHeadersSeen?: () => void;
  /** The first byte of a request's head arrived (arms request_headers_timeout). */
  onHeadStart?: () => void;
  /** HCM stream idle timeout (0 = none) and connection idle timeout. */
  streamIdleMs: number;
  idleTimeoutMs: number;
  /** Whether the listener is draining (responses then close their connection). */
  draining(): boolean;
}

/** Bytes of pipelined requests buffered while a response is in progress before reading pauses. */
const MAX_BUFFERED = 64 * 1024;

let dateCache = '';
let dateSecond = 0;
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

/**
 * The read buffer of every downstream socket on this thread, plain or TLS (reads are handled one at
 * a time): receive() copies whatever it keeps past the read.
 */
const READ_BUFFER = new Uint8Array(64 * 1024);

/**
 * net.Socket's own slots for `onread` (a user buffer and its callback), found on a socket made with
 * that option: Node offers `onread` only to sockets it connects, yet an accepted socket reads
 * through the same slots (`onStreamRead` checks them on every read) once its handle uses the buffer.
 */
let onreadSlots: { buffer: symbol; callback: symbol } | null | undefined;
function findOnreadSlots(): { buffer: symbol; callback: symbol } | null {
  if (onreadSlots !== undefined) return onreadSlots;
  const probe = new net.Socket({ onread: { buffer: new Uint8Array(1), callback: () => true } });
  const syms = Object.getOwnPropertySymbols(probe);
  const buffer = syms.find((x) => x.description === 'kBuffer');
  const callback = syms.find((x) => x.description === 'kBufferCb');
  probe.destroy();
  onreadSlots = buffer && callback ? { buffer, callback } : null;
  return onreadSlots;
}

type SocketInternals = net.Socket & {
  _handle?: { useUserBuffer?: (b: Uint8Array) => void } | null;
} & Record<symbol, unknown>;

/**
 * Switches an accepted socket (plain text, or a TLS socket: its handle decrypts into the buffer as
 * tls.connect's `onread` does) to reading into READ_BUFFER, handed to `onRead`: no ArrayBuffer per
 * read, none of Readable's bookkeeping. False (and nothing changed) for a socket with bytes already
 * in its Readable buffer or a reader of its own, or a Node without the slots.
 */
function readIntoSharedBuffer(socket: net.Socket, onRead: (n: number, b: Uint8Array) => boolean): boolean {
  const s = socket as SocketInternals;
  const slots = findOnreadSlots();
  const handle = s._handle;
  if (!slots || !handle || typeof handle.useUserBuffer !== 'function') return false;
  if (s.readableLength > 0 || s.listenerCount('data') > 0) return false;
  if (s[slots.buffer] !== null || s[slots.callback] !== null) return false;
  s[slots.buffer] = READ_BUFFER;
  s[slots.callback] = onRead;
  handle.useUserBuffer(READ_BUFFER);
  return true;
}

/** Body chunks up to this size are copied behind the head so both leave in one write. */
const COALESCE_BYTES = 16 * 1024;

/** Buffer's own latin1 writer (the binding, no argument handling); @types/node does not declare it. */
interface Latin1Writable {
  latin1Write(s: string, offset: number): number;
}

/** `prefix` (latin1) + `data` + an optional CRLF in one buffer. */
function frame(prefix: string, data: Buffer, crlf: boolean): Buffer {
  // latin1Write and set: in range by construction, so without Buffer#write's and #copy's argument checks.
  const out = Buffer.allocUnsafe(prefix.length + data.length + (crlf ? 2 : 0));
  const w = out as unknown as Latin1Writable;
  const n = w.latin1Write(prefix, 0);
  out.set(data, n);
  if (crlf) w.latin1Write('\r\n', n + data.length);
  return out;
}

/** A request as the HCM reads it: node:http's IncomingMessage fields, with its body as a stream. */
export interface RawRequest {
  method: string;
  url: string;
  httpVersion: string;
  headers: HeaderMap;
  readableEnded: boolean;
  once(event: 'end', fn: () => void): unknown;
}

/** A request with a body: a Readable fed by the connection, paused with it. */
class RequestBody extends Readable implements RawRequest {
  method: string;
  url: string;
  httpVersion = '1.1';
  headers: HeaderMap;
  constructor(
    head: RequestHead,
    private readonly conn: Http1ServerConnection,
  ) {
    super();
    this.method = head.method;
    this.url = head.target;
    this.headers = head.headers;
  }
  override _read(): void {
    this.conn.resumeFor(this);
  }
}

/** A body-less request's `once`: its 'end' has passed (readableEnded). */
const NO_LISTENER = (): undefined => undefined;

/** A body-less request: no stream at all. */
function bodylessRequest(head: RequestHead): RawRequest {
  return {
    method: head.method,
    url: head.target,
    httpVersion: '1.1',
    headers: head.headers,
    readableEnded: true,
    once: NO_LISTENER,
  };
}

/** Told of a response's end directly, before its 'finish'/'close' events (no listeners per request). */
export interface ResponseObserver {
  responseFinished(): void;
  responseClosed(): void;
}

type Listener = (...args: unknown[]) => void;

/**
 * The response side of one request, with the node:http ServerResponse calls the HCM makes. Its
 * events ('drain', 'finish', 'close') go through an EventEmitter made only when a listener is
 * added: the common response is watched through `observer`, and has none.
 */
export class RawResponse {
  private events: EventEmitter | undefined = undefined;
  headersSent = false;
  writableFinished = false;
  [ON_STREAM_IDLE]?: StreamIdleHandler;
  observer: ResponseObserver | undefined = undefined;
  private head: string | undefined;
  private chunked = false;
  private noBody: boolean;
  private trailers: Record<string, string | string[]> | undefined;
  private closed = false;
  /** The connection closes after this response. */
  closeAfter: boolean;

  constructor(
    private readonly conn: Http1ServerConnection,
    private readonly socket: net.Socket,
    method: string,
    closeAfter: boolean,
  ) {
    this.noBody = method === 'HEAD';
    this.closeAfter = closeAfter;
  }

  on(event: string, listener: Listener): this {
    (this.events ??= new EventEmitter()).on(event, listener);
    return this;
  }

  once(event: string, listener: Listener): this {
    (this.events ??= new EventEmitter()).once(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.events?.off(event, listener);
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  /** Its events carry no arguments (and a rest parameter would allocate per call). */
  emit(event: 'drain' | 'finish' | 'close'): boolean {
    return this.events !== undefined && this.events.emit(event);
  }

  listenerCount(event: string): number {
    return this.events?.listenerCount(event) ?? 0;
  }

  writeHead(status: number, headers: Record<string, string | string[]>): this {
    if (this.headersSent) throw new Error('headers already sent');
    this.headersSent = true;
    let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let hasLength = false;
    let hasDate = false;
    for (const k in headers) {
      const v = headers[k];
      if (k === 'content-length') hasLength = true;
      else if (k === 'date') hasDate = true;
      else if (k === 'transfer-encoding' || k === 'connection') continue;
      s += fieldLines(k, v);
    }
    if (!hasDate) s += `date: ${httpDate()}\r\n`;
    if (status === 204 || status === 304 || status < 200) this.noBody = true;
    else if (!hasLength && !this.noBody) {
      this.chunked = true;
      s += 'transfer-encoding: chunked\r\n';
    }
    if (this.conn.hooks.draining()) this.closeAfter = true;
    if (this.closeAfter) s += 'connection: close\r\n';
    this.head = s + '\r\n';
    return this;
  }

  flushHeaders(): void {
    if (this.head !== undefined) {
      this.socket.write(this.head, 'latin1');
      this.head = undefined;
    }
  }

  write(chunk: Buffer | string): boolean {
    if (this.closed) return false;
    if (!this.headersSent) this.writeHead(200, {});
    const s = this.socket;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.noBody || data.length === 0) {
      this.flushHeaders();
      return true;
    }
    const pre = this.chunked ? chunkHeader(data.length) : '';
    const head = this.head ?? '';
    this.head = undefined;
    if (data.length <= COALESCE_BYTES) {
      // One buffer, one write syscall: head, chunk framing and data together.
      s.write(frame(head + pre, data, this.chunked));
    } else {
      s.cork();
      if (head || pre) s.write(head + pre, 'latin1');
      s.write(data);
      if (this.chunked) s.write('\r\n', 'latin1');
      s.uncork();
    }
    return !s.writableNeedDrain;
  }

  addTrailers(t: Record<string, string | string[]>): void {
    this.trailers = t;
  }

  end(chunk?: Buffer | string): this {
    if (this.closed || this.writableFinished) return this;
    if (!this.headersSent) {
      const len =
        chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      this.writeHead(200, { 'content-length': String(len) });
    }
    const s = this.socket;
    const last = this.chunked && !this.noBody;
    const head = this.head;
    if (
      !last &&
      !this.noBody &&
      head !== undefined &&
      typeof chunk === 'object' &&
      chunk.length > 0 &&
      chunk.length <= COALESCE_BYTES
    ) {
      // A whole response in one buffer (as write() frames it), straight to the socket's handle
      // when its Writable is idle: no backpressure to report for the last write.
      this.head = undefined;
      const whole = frame(head, chunk, false);
      if (!writeDirect(s, whole) && !writeTlsDirect(s as tls.TLSSocket, whole)) s.write(whole);
    } else {
      // Corked only when a last chunk follows: otherwise head and body already leave in one write.
      if (last) s.cork();
      if (chunk !== undefined && (typeof chunk === 'string' ? chunk.length > 0 : chunk.length > 0))
        this.write(chunk);
      this.flushHeaders();
    }
    if (last) {
      s.write(lastChunk(this.trailers), 'latin1');
      s.uncork();
    }
    this.writableFinished = true;
    this.closed = true;
    const o = this.observer;
    if (o) {
      o.responseFinished();
      o.responseClosed();
    }
    this.emit('finish');
    this.emit('close');
    this.conn.responseDone(this);
    return this;
  }

  /** The stream idle timeout on this response's connection (restarted by any byte). */
  setTimeout(ms: number): this {
    this.conn.setStreamTimeout(this, ms);
    return this;
  }

  /** Resets the stream: HTTP/1.1 can only close the connection. */
  destroy(): this {
    if (!this.closed) this.socket.destroy();
    return this;
  }

  /** The connection went away before the response finished. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.observer?.responseClosed();
    this.emit('close');
  }
}

/** One downstream HTTP/1.1 connection. */
export class Http1ServerConnection {
  private buffered: Buffer | undefined;
  private scanned = 0;
  private decoder: BodyDecoder | undefined;
  /** The body decoder is being fed a view of READ_BUFFER. */
  private sharedChunks = false;
  private body: RequestBody | undefined;
  private res: RawResponse | undefined;
  private requestComplete = true;
  private pausedByUs = false;
  private timeoutMs: number;
  private idleSince = 0;
  private done = false;
  private readonly onData = (c: Buffer): void => this.receive(c, false);
  /** Reads land in READ_BUFFER (see readIntoSharedBuffer); after a hand-off they are pushed as copies. */
  private shared = false;
  private handedOff = false;
  private readonly onRead = (n: number, b: Uint8Array): boolean => {
    const chunk = Buffer.from(b.buffer, b.byteOffset, n);
    // Handed to node:http: its reader gets copies through the socket's Readable.
    if (this.handedOff) return this.socket.push(Buffer.from(chunk)) !== false;
    this.receive(chunk, true);
    return true;
  };
  private readonly onClose = (): void => this.closed();
  private readonly onTimeout = (): void => this.timedOut();
  private readonly onDrain = (): void => void this.res?.emit('drain');
  private readonly onError = (): void => undefined;

  /** `prefix`: bytes a listener filter already read from the socket, read here before the rest. */
  constructor(
    private readonly socket: net.Socket,
    readonly hooks: Http1ServerHooks,
    prefix?: Buffer,
  ) {
    this.timeoutMs = hooks.streamIdleMs > 0 ? hooks.streamIdleMs : hooks.idleTimeoutMs;
    this.shared = readIntoSharedBuffer(socket, this.onRead);
    if (prefix && prefix.length > 0) {
      // On the next tick, as the socket's own reads come: the caller has its connection by then.
      if (this.shared)
        process.nextTick(() => {
          if (!this.socket.destroyed) this.receive(prefix, false);
        });
      else socket.unshift(prefix);
    }
    if (!this.shared) socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    if (this.timeoutMs > 0) socket.setTimeout(this.timeoutMs);
    this.idleSince = Date.now();
  }

  /** `view`: `chunk` is READ_BUFFER's, overwritten by the next read, so what is kept is copied. */
  private receive(chunk: Buffer, view: boolean): void {
    let buf = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    const shared = view && buf === chunk;
    this.buffered = undefined;
    try {
      while (buf.length > 0 && !this.done) {
        const d = this.decoder;
        if (d) {
          this.sharedChunks = shared;
          buf = buf.subarray(d.feed(buf));
          continue;
        }
        if (this.res || !this.requestComplete) {
          // The next pipelined request waits for this response.
          this.buffered = shared ? Buffer.from(buf) : buf;
          if (buf.length > MAX_BUFFERED) this.pause();
          return;
        }
        if (this.scanned === 0) this.hooks.onHeadStart?.();
        const end = findHeadEnd(buf, this.scanned);
        if (end < 0) {
          if (buf.length > DEFAULT_HEAD_LIMITS.maxHeadBytes) throw new HttpParseError('head too large', 431);
          this.buffered = shared ? Buffer.from(buf) : buf;
          this.scanned = buf.length;
          return;
        }
        this.scanned = 0;
        const head = parseRequestHead(buf, end);
        this.hooks.onHeadersSeen?.();
        if (head.upgrade || head.method === 'CONNECT' || head.minor === 0)
          return this.handOff(shared ? Buffer.from(buf) : buf);
        buf = buf.subarray(end);
        this.startRequest(head);
      }
    } catch (e) {
      this.protocolError(e);
    }
  }

  private startRequest(head: RequestHead): void {
    const framing = requestFraming(head);
    if (this.timeoutMs !== this.hooks.streamIdleMs && this.hooks.streamIdleMs > 0) {
      this.timeoutMs = this.hooks.streamIdleMs;
      this.socket.setTimeout(this.timeoutMs);
    }
    const res = new RawResponse(this, this.socket, head.method, head.close);
    this.res = res;
    if (framing.kind === 'none') {
      this.requestComplete = true;
      this.hooks.onRequest(bodylessRequest(head), res);
      return;
    }
    const expect = head.headers['expect'];
    if (typeof expect === 'string') {
      if (expect.toLowerCase() !== '100-continue') throw new HttpParseError('unsupported expectation', 417);
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    const body = new RequestBody(head, this);
    this.body = body;
    this.requestComplete = false;
    this.decoder = new BodyDecoder(framing, {
      data: (c) => {
        if (!body.push(this.sharedChunks ? Buffer.from(c) : c)) this.pause();
      },
      end: () => {
        this.decoder = undefined;
        this.body = undefined;
        this.requestComplete = true;
        body.push(null);
      },
    });
    this.hooks.onRequest(body, res);
  }

  /** A response finished: the connection reads its next request, or closes. */
  responseDone(res: RawResponse): void {
    if (this.res !== res) return;
    this.res = undefined;
    if (res.closeAfter || !this.requestComplete) {
      // A response before the whole request (a local reply to an upload) ends the connection too.
      this.done = true;
      this.socket.end();
      return;
    }
    this.next();
  }

  private next(): void {
    this.idleSince = Date.now();
    if (this.timeoutMs !== this.hooks.streamIdleMs && this.hooks.streamIdleMs > 0) {
      this.timeoutMs = this.hooks.streamIdleMs;
      this.socket.setTimeout(this.timeoutMs);
    }
    const rest = this.buffered;
    this.buffered = undefined;
    if (this.pausedByUs) {
      this.pausedByUs = false;
      this.socket.resume();
    }
    if (rest) this.receive(rest, false);
  }

  private pause(): void {
    if (this.pausedByUs) return;
    this.pausedByUs = true;
    this.socket.pause();
  }

  /** The request body's reader wants more. */
  resumeFor(body: RequestBody): void {
    if (body === this.body && this.pausedByUs && !this.buffered) {
      this.pausedByUs = false;
      this.socket.resume();
    }
  }

  /** A route's idle timeout for the current stream. */
  setStreamTimeout(res: RawResponse, ms: number): void {
    if (res !== this.res) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  private timedOut(): void {
    const res = this.res;
    if (res) {
      const idle = res[ON_STREAM_IDLE];
      if (idle) idle.streamIdle();
      else this.socket.destroy();
      return;
    }
    // Between requests: the connection idle timeout, which may be longer than the stream's.
    const idleFor = Date.now() - this.idleSince;
    const left = this.hooks.idleTimeoutMs - idleFor;
    if (this.hooks.idleTimeoutMs > 0 && left > 0) {
      this.timeoutMs = left;
      this.socket.setTimeout(left);
    } else this.socket.destroy();
  }

  private protocolError(e: unknown): void {
    this.done = true;
    const err = e instanceof HttpParseError ? e : new HttpParseError(String(e));
    this.hooks.onProtocolError(err);
    const res = this.res;
    if (res?.headersSent) {
      this.socket.destroy();
      return;
    }
    // A bad body before any response: the stream ends here and the client gets a 400.
    if (this.body) this.body.destroy();
    res?.abort();
    this.res = undefined;
    const reason = STATUS_CODES[err.status] ?? 'Bad Request';
    this.socket.end(`HTTP/1.1 ${err.status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  }

  private handOff(buf: Buffer): void {
    this.done = true;
    this.handedOff = true;
    this.detach();
    this.hooks.fallback(this.socket, buf);
  }

  private detach(): void {
    const s = this.socket;
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('timeout', this.onTimeout);
    s.off('drain', this.onDrain);
    s.off('error', this.onError);
    s.setTimeout(0);
  }

  private closed(): void {
    this.done = true;
    const body = this.body;
    // As node:http: an aborted body errors only for a reader that listens for errors.
    if (body && !this.requestComplete)
      body.destroy(
        body.listenerCount('error') > 0
          ? Object.assign(new Error('aborted'), { code: 'ECONNRESET' })
          : undefined,
      );
    this.res?.abort();
    this.res = undefined;
  }

  /** Closes the connection if no request is in progress (listener drain). */
  closeIfIdle(): void {
    if (!this.res && this.requestComplete && !this.buffered) {
      this.done = true;
      this.socket.end();
    }
  }
}

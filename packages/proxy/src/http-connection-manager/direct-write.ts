// Writes one whole buffer (or latin1 string) to a plain TCP socket's handle as net.Socket's own
// write does, without Writable's bookkeeping per write (its write state, callback, after-write tick
// and events): the path for a complete HTTP/1.1 response and for a bodiless upstream request's
// head, which need no backpressure. Falls back (returns false)
// whenever the socket's Writable holds or may hold data, so bytes always leave in call order.
// (`socket.bytesWritten` does not count these bytes; the proxy reads its own counters instead.)
import type net from 'node:net';
import { streamWrap, type WriteReq as StreamWrapWriteReq } from '../util/stream-wrap.js';

type WriteReq = StreamWrapWriteReq<net.Socket>;

interface TcpHandle {
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  /** Copies what it cannot write at once: the string need not be kept. */
  writeLatin1String(req: WriteReq, data: string): number;
  constructor: { name: string };
}

type SocketInternals = net.Socket & {
  _handle?: TcpHandle | null;
  _unrefTimer?: () => void;
};

/** An async write ended: on an error the socket is destroyed, as net.Socket does. */
function onWriteComplete(this: WriteReq, status: number): void {
  const socket = this.socket;
  this.buffer = null;
  this.socket = null;
  if (status < 0 && socket && !socket.destroyed)
    socket.destroy(Object.assign(new Error(`write failed (${status})`), { errno: status, syscall: 'write' }));
}

/** The socket's TCP handle when a direct write may go out now (see writeDirect). */
function writableHandle(socket: net.Socket): TcpHandle | undefined {
  const s = socket as SocketInternals;
  const handle = s._handle;
  if (
    !handle ||
    handle.constructor.name !== 'TCP' ||
    s.connecting ||
    s.destroyed ||
    s.writableEnded ||
    s.writableLength > 0 ||
    s.writableCorked > 0
  )
    return undefined;
  return handle;
}

/** After a handle write: a failure destroys the socket; a write restarts the idle timer. */
function afterWrite(socket: net.Socket, err: number): void {
  if (err !== 0) {
    socket.destroy(Object.assign(new Error(`write failed (${err})`), { errno: err, syscall: 'write' }));
    return;
  }
  (socket as SocketInternals)._unrefTimer?.();
}

/**
 * Writes `data` straight to the socket's TCP handle. False (nothing written) when the socket is
 * not a plain connected TCP socket with an empty, uncorked, unended Writable, or Node lacks the
 * binding: the caller then writes through `socket.write`.
 */
export function writeDirect(socket: net.Socket, data: Uint8Array): boolean {
  const handle = writableHandle(socket);
  const b = handle && streamWrap<net.Socket>();
  if (!handle || !b) return false;
  const req = new b.WriteWrap();
  req.oncomplete = onWriteComplete;
  req.buffer = data;
  req.socket = socket;
  const err = handle.writeBuffer(req, data);
  if (err === 0 && b.streamBaseState[b.kLastWriteWasAsync] === 0) {
    req.buffer = null;
    req.socket = null;
  }
  afterWrite(socket, err);
  return true;
}

/** `writeDirect` for a latin1 string (an HTTP/1.1 head): written, or false as writeDirect. */
export function writeDirectLatin1(socket: net.Socket, data: string): boolean {
  const handle = writableHandle(socket);
  const b = handle && streamWrap<net.Socket>();
  if (!handle || !b) return false;
  const req = new b.WriteWrap();
  req.oncomplete = onWriteComplete;
  req.buffer = null;
  req.socket = socket;
  const err = handle.writeLatin1String(req, data);
  if (err === 0 && b.streamBaseState[b.kLastWriteWasAsync] === 0) req.socket = null;
  afterWrite(socket, err);
  return true;
}

// Writes one whole message to an established TLS socket's native handle (Node's TLSWrap) with a
// WriteWrap, without the Writable's bookkeeping per write: the TLS counterpart of the plain path's
// direct write. TLSWrap takes one write at a time (a second one while the first is in flight
// aborts the process) and always completes asynchronously, so while a direct write is in flight
// the socket's own writes and its shutdown wait for it, in call order.
// (`socket.bytesWritten` does not count these bytes; the proxy reads its own counters instead.)
import type tls from 'node:tls';
import { streamWrap, type WriteReq as StreamWrapWriteReq } from '../util/stream-wrap.js';

type WriteReq = StreamWrapWriteReq<tls.TLSSocket>;

interface TlsHandle {
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writeLatin1String(req: WriteReq, data: string): number;
  constructor: { name: string };
}

type WriteGeneric = (
  writev: boolean,
  data: unknown,
  encoding: string,
  cb: (err?: Error | null) => void,
) => void;
type Final = (cb: (err?: Error | null) => void) => void;

/** What this module keeps on a socket it wrote to: whether a direct write is in flight, and what waits. */
interface DirectState {
  inFlight: boolean;
  waiting: (() => void)[];
}

type SocketInternals = tls.TLSSocket & {
  _handle?: TlsHandle | null;
  _secureEstablished?: boolean;
  _unrefTimer?: () => void;
  _writeGeneric?: WriteGeneric;
  _final?: Final;
  [DIRECT]?: DirectState;
};

const DIRECT = Symbol('skein.tlsDirectWrite');

/**
 * Makes the socket's own writes (net's `_writeGeneric`, which every `write`/`writev` of its
 * Writable reaches) and its shutdown (`_final`) wait while a direct write is in flight. Installed
 * once per socket; false when the socket lacks those internals.
 */
function install(s: SocketInternals): DirectState | null {
  const existing = s[DIRECT];
  if (existing) return existing;
  const writeGeneric = s._writeGeneric;
  const final = s._final;
  if (typeof writeGeneric !== 'function' || typeof final !== 'function') return null;
  const st: DirectState = { inFlight: false, waiting: [] };
  s[DIRECT] = st;
  s._writeGeneric = function (this: SocketInternals, writev, data, encoding, cb) {
    if (st.inFlight) st.waiting.push(() => writeGeneric.call(this, writev, data, encoding, cb));
    else writeGeneric.call(this, writev, data, encoding, cb);
  };
  s._final = function (this: SocketInternals, cb) {
    if (st.inFlight) st.waiting.push(() => final.call(this, cb));
    else final.call(this, cb);
  };
  return st;
}

/** The in-flight direct write ended: an error destroys the socket (as net does); then what waited runs. */
function onWriteComplete(this: WriteReq, status: number): void {
  const socket = this.socket as SocketInternals | null;
  this.buffer = null;
  this.socket = null;
  if (!socket) return;
  if (status < 0 && !socket.destroyed)
    socket.destroy(Object.assign(new Error(`write failed (${status})`), { errno: status, syscall: 'write' }));
  const st = socket[DIRECT];
  if (!st) return;
  st.inFlight = false;
  // At most a write and then the shutdown wait (the Writable issues one at a time); a waiting
  // write that goes out makes the next direct write decline (the Writable holds data) until it ends.
  while (!st.inFlight && st.waiting.length > 0) st.waiting.shift()?.();
}

/**
 * Writes `data` (bytes, or a latin1 string) to an established TLS socket's handle. False (nothing
 * written) when the socket is not a TLS socket past its handshake with an idle, uncorked, unended
 * Writable and no direct write in flight, or Node lacks the binding: the caller then writes
 * through `socket.write`. Empty data is never written here.
 */
export function writeTlsDirect(socket: tls.TLSSocket, data: Uint8Array | string): boolean {
  const s = socket as SocketInternals;
  const handle = s._handle;
  if (
    !handle ||
    handle.constructor.name !== 'TLSWrap' ||
    s._secureEstablished !== true ||
    s.connecting ||
    s.destroyed ||
    s.writableEnded ||
    s.writableLength > 0 ||
    s.writableCorked > 0 ||
    data.length === 0 ||
    s[DIRECT]?.inFlight === true
  )
    return false;
  const b = streamWrap<tls.TLSSocket>();
  if (!b) return false;
  const st = install(s);
  if (!st) return false;
  const req = new b.WriteWrap();
  req.oncomplete = onWriteComplete;
  req.buffer = data;
  req.socket = socket;
  const err = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data);
  if (err !== 0) {
    req.buffer = null;
    req.socket = null;
    socket.destroy(Object.assign(new Error(`write failed (${err})`), { errno: err, syscall: 'write' }));
    return true;
  }
  if (b.streamBaseState[b.kLastWriteWasAsync] === 0) {
    req.buffer = null;
    req.socket = null;
  } else st.inFlight = true;
  // As net.Socket's write: a write restarts the socket's idle timer.
  s._unrefTimer?.();
  return true;
}

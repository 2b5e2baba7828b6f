// A pre-framed gRPC message written straight onto the HTTP/2 stream under a grpc-js server call.
// A class's response is framed once (the 5-byte gRPC header in front of its bytes) and that one
// Buffer goes to every stream of the class; a write then skips grpc-js's per-message path (its
// object-mode Writable, the call's sendMessage, the framing copy, and the callback chain when the
// write completes). It is used only while grpc-js's own sendMessage would make exactly this write
// (response headers sent, call not cancelled, nothing queued in grpc-js's Writable, within the
// send size limit); otherwise the caller writes through grpc-js, so the order of messages holds.
import type * as grpc from '@grpc/grpc-js';

/** The gRPC message header: one byte (not compressed) and the length, big-endian. */
export const GRPC_HEADER_BYTES = 5;

/** `message` behind a gRPC message header, in one Buffer. */
export function grpcFramed(parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(GRPC_HEADER_BYTES + length);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  let at = GRPC_HEADER_BYTES;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The HTTP/2 stream's side that a write needs (Node's ServerHttp2Stream). */
interface Http2Out {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
  readonly destroyed: boolean;
  readonly writable: boolean;
}

/**
 * grpc-js's call object under a server stream without interceptors (BaseServerInterceptingCall,
 * grpc-js 1.10 and later): internal to grpc-js, so its shape is checked before it is used.
 */
interface BaseCall {
  readonly stream: Http2Out;
  readonly metadataSent: boolean;
  readonly cancelled: boolean;
  readonly maxSendMessageSize: number;
}

/** Writes `framed` to the stream and returns true, or returns false (nothing written). */
export type RawWrite = (framed: Buffer, done: (err?: Error | null) => void) => boolean;

function baseCall(stream: grpc.ServerDuplexStream<unknown, unknown>): BaseCall | undefined {
  const call = (stream as unknown as { call?: Partial<Record<keyof BaseCall, unknown>> }).call;
  const h2 = call?.stream as Partial<Http2Out> | undefined;
  if (
    !call ||
    typeof h2?.write !== 'function' ||
    typeof call.metadataSent !== 'boolean' ||
    typeof call.cancelled !== 'boolean' ||
    typeof call.maxSendMessageSize !== 'number'
  )
    return undefined;
  return call as BaseCall;
}

/**
 * A raw writer for a grpc-js server stream, or undefined when the call is not grpc-js's plain
 * server call (an interceptor, another grpc-js version): then every write goes through grpc-js.
 */
export function rawWriter(stream: grpc.ServerDuplexStream<unknown, unknown>): RawWrite | undefined {
  const call = baseCall(stream);
  if (!call) return undefined;
  const h2 = call.stream;
  return (framed, done) => {
    if (
      !call.metadataSent || // the first message goes through grpc-js, which sends the headers
      call.cancelled ||
      stream.writableLength > 0 || // grpc-js has a message in flight or queued: keep the order
      stream.destroyed ||
      h2.destroyed ||
      !h2.writable ||
      (call.maxSendMessageSize !== -1 && framed.length - GRPC_HEADER_BYTES > call.maxSendMessageSize)
    )
      return false;
    // A failed write also errors the HTTP/2 stream, which grpc-js turns into the call's end.
    h2.write(framed, done);
    return true;
  };
}

// Workload metadata exchange for TCP between sidecars (Istio's ALPN `istio-peer-exchange`): when a
// mesh TLS connection negotiates that ALPN, each side first writes one frame — the 4-byte magic
// 0x3D230467, a 4-byte big-endian length, then the workload metadata — and strips the peer's frame
// from the start of what it receives. Istio's frame carries a protobuf Struct; Skein's carries the
// JSON of `PeerMetadata` (the same fields as the HTTP header exchange).
import { Transform, type TransformCallback } from 'node:stream';
import type { PeerMetadata } from '../http-connection-manager/stream-info.js';

export const PEER_EXCHANGE_ALPN = 'istio-peer-exchange';
const MAGIC = 0x3d230467;
/** A frame longer than this is not one of ours: the bytes pass through untouched. */
const MAX_FRAME = 64 * 1024;

export function exchangeFrame(p: PeerMetadata): Buffer {
  const body = Buffer.from(JSON.stringify(p));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/**
 * Strips a leading exchange frame from a byte stream and reports the peer it names, or undefined
 * when the stream does not start with a frame (its bytes then pass through unchanged).
 */
export class PeerFrameReader extends Transform {
  private pending: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly onPeer: (peer: PeerMetadata | undefined) => void) {
    super();
  }

  private settle(peer: PeerMetadata | undefined, rest: Buffer): void {
    this.pending = undefined;
    this.onPeer(peer);
    if (rest.length > 0) this.push(rest);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.pending) return cb(null, chunk);
    const b = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (b.length < 8) {
      this.pending = b;
      return cb();
    }
    const len = b.readUInt32BE(4);
    if (b.readUInt32BE(0) !== MAGIC || len > MAX_FRAME) {
      this.settle(undefined, b);
      return cb();
    }
    if (b.length < 8 + len) {
      this.pending = b;
      return cb();
    }
    let peer: PeerMetadata | undefined;
    try {
      const o: unknown = JSON.parse(b.subarray(8, 8 + len).toString('utf8'));
      peer = o && typeof o === 'object' ? (o as PeerMetadata) : undefined;
    } catch {
      peer = undefined;
    }
    this.settle(peer, b.subarray(8 + len));
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.pending) this.settle(undefined, this.pending);
    cb();
  }
}

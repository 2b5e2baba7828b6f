// Workload metadata exchange for TCP between sidecars (Istio's ALPN `istio-peer-exchange`): when a
// mesh TLS connection negotiates that ALPN, each side first writes one frame — the 4-byte magic
// 0x3D230467, a 4-byte big-endian length, then a protobuf `google.protobuf.Any` holding a `Struct`
// of node metadata with Istio's keys (NAMESPACE, WORKLOAD_NAME, SERVICE_ACCOUNT, CLUSTER_ID,
// LABELS), as Istio's metadata-exchange filter writes it — and strips the peer's frame from the
// start of what it receives.
import { Transform, type TransformCallback } from 'node:stream';
import { fromBinary, fromJson, toBinary, toJson, type JsonObject } from '@bufbuild/protobuf';
import { AnySchema, StructSchema, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import type { PeerMetadata } from '../http-connection-manager/stream-info.js';
import { workloadFromNode } from '../stats/workload-metadata.js';

export const PEER_EXCHANGE_ALPN = 'istio-peer-exchange';
const MAGIC = 0x3d230467;
/** A frame longer than this is not one of ours: the bytes pass through untouched. */
const MAX_FRAME = 64 * 1024;

/** Node metadata in Istio's keys for a workload (what `workloadFromNode` reads back). */
export function nodeMetadataOf(p: PeerMetadata): JsonObject {
  const labels: Record<string, string> = { ...(p.labels ?? {}) };
  const put = (o: Record<string, string>, k: string, v: string | undefined): void => {
    if (v !== undefined && o[k] === undefined) o[k] = v;
  };
  put(labels, 'app', p.app);
  put(labels, 'version', p.version);
  put(labels, 'service.istio.io/canonical-name', p.canonicalService);
  put(labels, 'service.istio.io/canonical-revision', p.canonicalRevision);
  const out: Record<string, string> = {};
  put(out, 'NAMESPACE', p.namespace);
  put(out, 'WORKLOAD_NAME', p.workload);
  put(out, 'SERVICE_ACCOUNT', p.serviceAccount);
  put(out, 'CLUSTER_ID', p.clusterId);
  return { ...out, LABELS: labels };
}

export function exchangeFrame(p: PeerMetadata): Buffer {
  const struct = fromJson(StructSchema, nodeMetadataOf(p));
  const body = Buffer.from(toBinary(AnySchema, anyPack(StructSchema, struct)));
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
      const struct = anyUnpack(fromBinary(AnySchema, b.subarray(8, 8 + len)), StructSchema);
      const json = struct ? toJson(StructSchema, struct) : undefined;
      peer = json && typeof json === 'object' ? workloadFromNode(json as Record<string, unknown>) : undefined;
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

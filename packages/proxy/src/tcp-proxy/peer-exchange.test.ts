// The TCP metadata-exchange frame: Istio's layout (magic, length, Any(Struct)) round-trips the
// workload, and a stream that does not start with a frame passes through unchanged.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { fromBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import type { PeerMetadata } from '../http-connection-manager/stream-info.js';
import { exchangeFrame, PeerFrameReader } from './peer-exchange.js';

const me: PeerMetadata = {
  workload: 'reviews-v2',
  namespace: 'shop',
  serviceAccount: 'reviews',
  clusterId: 'Kubernetes',
  app: 'reviews',
  version: 'v2',
  canonicalService: 'reviews',
  canonicalRevision: 'v2',
  labels: { app: 'reviews', version: 'v2' },
};

async function read(chunks: Buffer[]): Promise<{ peer: PeerMetadata | undefined; rest: string }> {
  let peer: PeerMetadata | undefined;
  const reader = new PeerFrameReader((p) => (peer = p));
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(reader)) out.push(c as Buffer);
  return { peer, rest: Buffer.concat(out).toString() };
}

describe('peer exchange frame', () => {
  it("is Istio's magic, a big-endian length and an Any holding a Struct", () => {
    const f = exchangeFrame(me);
    expect(f.readUInt32BE(0)).toBe(0x3d230467);
    expect(f.readUInt32BE(4)).toBe(f.length - 8);
    expect(fromBinary(AnySchema, f.subarray(8)).typeUrl).toBe('type.googleapis.com/google.protobuf.Struct');
  });

  it('round-trips the workload and strips the frame, even split across chunks', async () => {
    const f = Buffer.concat([exchangeFrame(me), Buffer.from('payload')]);
    const r = await read([f.subarray(0, 3), f.subarray(3, 20), f.subarray(20)]);
    expect(r.rest).toBe('payload');
    expect(r.peer).toMatchObject({
      workload: 'reviews-v2',
      namespace: 'shop',
      serviceAccount: 'reviews',
      app: 'reviews',
      version: 'v2',
      canonicalService: 'reviews',
    });
  });

  it('passes bytes without a frame through and reports no peer', async () => {
    const r = await read([Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
    expect(r.peer).toBeUndefined();
    expect(r.rest).toBe('GET / HTTP/1.1\r\n\r\n');
  });
});

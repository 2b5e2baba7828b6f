// Metadata exchange encoding: the round trip, a malformed value, and the caches (the local value is
// encoded once per metadata object, a repeated peer value is decoded once).
import { describe, expect, it } from 'vitest';
import type { PeerMetadata } from '../http-connection-manager/stream-info.js';
import { decodePeerMetadata, encodePeerMetadata } from './workload-metadata.js';

describe('peer metadata header', () => {
  it('round-trips, sharing the decoded object for a repeated value', () => {
    const me: PeerMetadata = { workload: 'ratings', namespace: 'shop', labels: { app: 'ratings' } };
    const v = encodePeerMetadata(me);
    expect(JSON.parse(Buffer.from(v, 'base64').toString('utf8'))).toEqual(me);
    expect(encodePeerMetadata(me)).toBe(v);
    const a = decodePeerMetadata(v);
    expect(a).toEqual(me);
    expect(decodePeerMetadata(v)).toBe(a);
    expect(encodePeerMetadata({ ...me, workload: 'other' })).not.toBe(v);
  });

  it('reads a malformed or empty value as no metadata, every time', () => {
    for (let i = 0; i < 2; i++) {
      expect(decodePeerMetadata('%%%not-base64')).toBeUndefined();
      expect(decodePeerMetadata(Buffer.from('"a string"').toString('base64'))).toBeUndefined();
      expect(decodePeerMetadata('')).toBeUndefined();
      expect(decodePeerMetadata(undefined)).toBeUndefined();
    }
  });

  it('still decodes correctly after many distinct values pushed older ones out', () => {
    const values = Array.from({ length: 600 }, (_, i) => encodePeerMetadata({ workload: `w${i}` }));
    for (const v of values) decodePeerMetadata(v);
    expect(decodePeerMetadata(values[0])?.workload).toBe('w0');
    expect(decodePeerMetadata(values[599])?.workload).toBe('w599');
  });
});

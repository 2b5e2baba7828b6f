// Fields newer than our Envoy API, found in a resource's wire format (plain and in the delta
// Resource wrapper), and a cluster carrying one NACKed with its field number.
import { describe, expect, it } from 'vitest';
import { encodeJson, TypeUrl } from '@skein/api-types';
import { unknownFieldNumbers } from './unknown-fields.js';
import { startProxy } from '../proxy.js';

const WRAPPER = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

/** A length-delimited field (wire type 2) with `payload`, as a newer control plane would add. */
function lengthDelimited(number: number, payload: Uint8Array): Uint8Array {
  const varint = (v: number): number[] => {
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  return Uint8Array.from([...varint(number * 8 + 2), ...varint(payload.length), ...payload]);
}

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

const cluster = {
  name: 'svc',
  type: 'STATIC',
  connectTimeout: '1s',
  transportSocketMatches: [{ name: 'tls' }],
};

describe('unknownFieldNumbers', () => {
  const known = encodeJson(TypeUrl.Cluster, cluster);
  const newer = concat(known, lengthDelimited(1234, Uint8Array.from([0x0a, 0x00])));

  it('finds top-level fields the Cluster message does not define, and none in a known one', () => {
    expect(unknownFieldNumbers(TypeUrl.Cluster, known)).toEqual([]);
    expect(unknownFieldNumbers(TypeUrl.Cluster, newer)).toEqual([1234]);
    // another type asked for: not looked at
    expect(unknownFieldNumbers(TypeUrl.Cluster, newer, TypeUrl.Listener)).toEqual([]);
  });

  it('looks through the delta Resource wrapper', () => {
    // Resource { name: "svc" (3), resource: Any { type_url (1), value (2) } (2) }
    const any = concat(
      lengthDelimited(1, new TextEncoder().encode(TypeUrl.Cluster)),
      lengthDelimited(2, newer),
    );
    const wrapper = concat(lengthDelimited(3, new TextEncoder().encode('svc')), lengthDelimited(2, any));
    expect(unknownFieldNumbers(WRAPPER, wrapper, TypeUrl.Cluster)).toEqual([1234]);
  });

  it('answers [] for bytes it cannot read', () => {
    expect(unknownFieldNumbers(TypeUrl.Cluster, Uint8Array.from([0xff]))).toEqual([]);
  });
});

describe('a cluster with fields newer than our API', () => {
  it('is rejected with their numbers (transport_socket_matcher is one such field)', async () => {
    const proxy = await startProxy({}, { logLevel: 'off' });
    try {
      const error = await proxy.applyForwarded({
        typeUrl: TypeUrl.Cluster,
        resources: [{ name: 'svc', json: cluster, unknownFields: [1234] }],
        version: 'v1',
        full: true,
        removed: [],
      });
      expect(error).toMatch(
        /^cluster svc: field number 1234 of envoy\.config\.cluster\.v3\.Cluster not known/,
      );
      expect(error).toContain('transport_socket_matcher');
      expect(proxy.clusters.get('svc')).toBeUndefined();
    } finally {
      await proxy.stop();
    }
  });
});

import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { discoveryV3, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/support/seeded-random.js';
import { VIRTUAL_HOST_TYPE } from '../translate/vhds.js';
import { decodeDeltaRequest, decodeSotwRequest } from './ack-decoder.js';

const KNOWN = [...Object.values(TypeUrl), VIRTUAL_HOST_TYPE];

const Delta = discoveryV3.DeltaDiscoveryRequestSchema;
const Sotw = discoveryV3.DiscoveryRequestSchema;

function words(r: () => number): string {
  const pick = r();
  if (pick < 0.1) return '';
  if (pick < 0.2) return 'é-ü-ß'; // non-ASCII: the full decoder's path
  if (pick < 0.3) return 'x'.repeat(130 + Math.floor(r() * 300)); // a two-byte length
  if (pick < 0.4) return KNOWN[Math.floor(r() * KNOWN.length)] ?? ''; // a type URL skeind serves
  if (pick < 0.45) return `${TypeUrl.Cluster.slice(0, -1)}X`; // one of the same length
  return `type.googleapis.com/envoy.config.route.v3.VirtualHost-${Math.floor(r() * 1e6).toString(36)}`;
}

const maybe = <T>(r: () => number, p: number, v: () => T): T | undefined => (r() < p ? v() : undefined);

function randomDelta(r: () => number): Uint8Array {
  const fields: Record<string, unknown> = { typeUrl: words(r), responseNonce: words(r) };
  const node = maybe(r, 0.2, () => ({ id: words(r), cluster: words(r) }));
  if (node) fields['node'] = node;
  const sub = maybe(r, 0.2, () => [words(r), '*']);
  if (sub) fields['resourceNamesSubscribe'] = sub;
  const unsub = maybe(r, 0.15, () => [words(r)]);
  if (unsub) fields['resourceNamesUnsubscribe'] = unsub;
  const initial = maybe(r, 0.15, () => ({ [words(r)]: words(r) }));
  if (initial) fields['initialResourceVersions'] = initial;
  const error = maybe(r, 0.15, () => ({ code: 3, message: words(r) }));
  if (error) fields['errorDetail'] = error;
  const loc = maybe(r, 0.1, () => [{ name: words(r) }]);
  if (loc) fields['resourceLocatorsSubscribe'] = loc;
  return toBinary(Delta, create(Delta, fields));
}

function randomSotw(r: () => number): Uint8Array {
  const fields: Record<string, unknown> = {
    versionInfo: words(r),
    typeUrl: words(r),
    responseNonce: words(r),
    resourceNames: Array.from({ length: Math.floor(r() * 4) }, () => words(r)),
  };
  const node = maybe(r, 0.2, () => ({ id: words(r) }));
  if (node) fields['node'] = node;
  const error = maybe(r, 0.15, () => ({ code: 13, message: words(r) }));
  if (error) fields['errorDetail'] = error;
  const loc = maybe(r, 0.1, () => [{ name: words(r) }]);
  if (loc) fields['resourceLocators'] = loc;
  return toBinary(Sotw, create(Sotw, fields));
}

describe('ack-decoder', () => {
  it('decodes 500 varied delta requests exactly as the full decoder does', () => {
    const r = seededRandom(7);
    let fast = 0;
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(randomDelta(r));
      const mine = decodeDeltaRequest(b);
      const full = fromBinary(Delta, b);
      expect(mine).toEqual(full);
      expect(equals(Delta, mine, full)).toBe(true);
      if (Object.isFrozen(mine.resourceNamesSubscribe)) fast++;
    }
    // Both paths were exercised: plain ACKs directly, the rest through the full decoder.
    expect(fast).toBeGreaterThan(50);
    expect(fast).toBeLessThan(450);
  });

  it('decodes 500 varied SotW requests exactly as the full decoder does', () => {
    const r = seededRandom(11);
    let fast = 0;
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(randomSotw(r));
      const mine = decodeSotwRequest(b);
      const full = fromBinary(Sotw, b);
      expect(mine).toEqual(full);
      expect(equals(Sotw, mine, full)).toBe(true);
      if (Object.isFrozen(mine.resourceLocators)) fast++;
    }
    expect(fast).toBeGreaterThan(50);
    expect(fast).toBeLessThan(450);
  });

  it('reads a plain delta ACK directly, a repeated field last one winning', () => {
    const ack = Buffer.from(toBinary(Delta, create(Delta, { typeUrl: 't', responseNonce: 'n-1' })));
    const twice = Buffer.concat([ack, Buffer.from(toBinary(Delta, create(Delta, { responseNonce: 'n-2' })))]);
    const m = decodeDeltaRequest(twice);
    expect(Object.isFrozen(m.resourceNamesSubscribe)).toBe(true);
    expect(m).toEqual(fromBinary(Delta, twice));
    expect(m.responseNonce).toBe('n-2');
  });

  it('leaves unknown fields and malformed bytes to the full decoder', () => {
    const unknown = Buffer.from([0x12, 0x01, 0x74, 0x7a, 0x01, 0x78]); // type_url "t", field 15 "x"
    expect(decodeDeltaRequest(unknown)).toEqual(fromBinary(Delta, unknown));
    const unknownSotw = Buffer.from([0x22, 0x01, 0x74, 0x7a, 0x01, 0x78]);
    expect(decodeSotwRequest(unknownSotw)).toEqual(fromBinary(Sotw, unknownSotw));
    const truncated = Buffer.from([0x12, 0x05, 0x74]);
    expect(() => decodeDeltaRequest(truncated)).toThrow();
    expect(() => fromBinary(Delta, truncated)).toThrow();
    expect(() => decodeSotwRequest(truncated)).toThrow();
  });
});

// x-request-id values: random (version 4) UUIDs, each formatted from a pool of random bytes into
// one 36-character string (crypto.randomUUID joins 20 pieces into a string per call).
import { nodeCrypto } from '../util/node-builtins.js';

/** Random bytes for 256 ids, refilled when used up (as randomUUID's own cache). */
const POOL = Buffer.allocUnsafe(16 * 256);
let used = POOL.length;
const OUT = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** A random UUID (RFC 9562 version 4, lowercase). */
export function randomRequestId(): string {
  if (used === POOL.length) {
    nodeCrypto.randomFillSync(POOL);
    used = 0;
  }
  const o = used;
  used += 16;
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) OUT[j++] = 0x2d;
    let b = POOL[o + i] as number;
    if (i === 6)
      b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // variant 10xx
    OUT[j++] = HEX[b >> 4] as number;
    OUT[j++] = HEX[b & 15] as number;
  }
  return OUT.toString('latin1', 0, 36);
}

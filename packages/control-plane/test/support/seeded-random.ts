// A small seeded pseudo-random generator (mulberry32) for the randomised tests: the same seed gives
// the same sequence on every run, so a failing sequence can be replayed.

/** The next 32-bit unsigned integer of the sequence for `seed`, per call. */
export function seededUint32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The next number in [0, 1) of the sequence for `seed`, per call. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}

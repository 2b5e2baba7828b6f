// Load balancing policies over fixed hosts with a seeded random source.
import { describe, expect, it } from 'vitest';
import { createLoadBalancer, eligibleHosts } from './load-balancer.js';
import { makeHost, type Host } from '../endpoint/host.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

const hosts = (n: number, weights: number[] = []): Host[] =>
  Array.from({ length: n }, (_, i) => makeHost('10.0.0.' + (i + 1), 80, { weight: weights[i] ?? 1 }));

function counts(pick: () => Host | undefined, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick();
    if (h) m.set(h.key, (m.get(h.key) ?? 0) + 1);
  }
  return m;
}

describe('load balancers', () => {
  it('round robin honours weights exactly over a cycle', () => {
    const hs = hosts(3, [1, 2, 3]);
    const lb = createLoadBalancer('ROUND_ROBIN', hs);
    const c = counts(() => lb.pick({ now: 0 }), 600);
    expect(hs.map((h) => c.get(h.key))).toEqual([100, 200, 300]);
  });

  it('least request prefers the less loaded of two choices', () => {
    const hs = hosts(2);
    hs[0]!.activeRequests = 10;
    const lb = createLoadBalancer('LEAST_REQUEST', hs, { random: seeded(1) });
    const c = counts(() => lb.pick({ now: 0 }), 1000);
    // The busy host wins only when both choices land on it (~1/4).
    expect(c.get(hs[1]!.key)! / 1000).toBeGreaterThan(0.7);
  });

  it('ring hash and maglev are consistent for a hash and spread across hosts', () => {
    for (const policy of ['RING_HASH', 'MAGLEV'] as const) {
      const hs = hosts(4);
      const lb = createLoadBalancer(policy, hs, { maglevTableSize: 251 });
      expect(lb.pick({ now: 0, hash: 12345 })).toBe(lb.pick({ now: 0, hash: 12345 }));
      const seen = new Set<string>();
      for (let h = 0; h < 2000; h++) seen.add(lb.pick({ now: 0, hash: Math.imul(h, 2654435761) >>> 0 })!.key);
      expect(seen.size).toBe(4);
    }
  });

  it('ring hash moves few keys between surviving hosts when one host goes', () => {
    const hs = hosts(5);
    const before = createLoadBalancer('RING_HASH', hs);
    const after = createLoadBalancer('RING_HASH', hs.slice(0, 4));
    let moved = 0;
    for (let i = 0; i < 1000; i++) {
      const h = Math.imul(i, 2654435761) >>> 0;
      const a = before.pick({ now: 0, hash: h })!;
      const b = after.pick({ now: 0, hash: h })!;
      if (a.key !== b.key && a.key !== hs[4]!.key) moved++;
    }
    // Modulo hashing would move ~80%; the ring moves only the removed host's keys plus a few.
    expect(moved / 1000).toBeLessThan(0.15);
  });

  it('fails over to the next priority only when a priority has no available host', () => {
    const p0 = makeHost('10.0.0.1', 80, { priority: 0 });
    const p1 = makeHost('10.0.0.2', 80, { priority: 1 });
    expect(eligibleHosts([p0, p1], 0)).toEqual([p0]);
    p0.ejectedUntil = 100;
    expect(eligibleHosts([p0, p1], 50)).toEqual([p1]);
    expect(eligibleHosts([p0, p1], 150)).toEqual([p0]);
  });

  it('random and locality weighting follow weights', () => {
    const a = makeHost('10.0.0.1', 80, { locality: 'z1', localityWeight: 3 });
    const b = makeHost('10.0.0.2', 80, { locality: 'z2', localityWeight: 1 });
    const lb = createLoadBalancer('RANDOM', [a, b], { random: seeded(7), localityWeighted: true });
    const c = counts(() => lb.pick({ now: 0 }), 4000);
    expect(c.get(a.key)! / 4000).toBeCloseTo(0.75, 1);
  });
});

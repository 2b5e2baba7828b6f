import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { releaseStartupMemory } from './release-memory.js';

const youngGeneration = (): number =>
  v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

describe('releaseStartupMemory', () => {
  it('shrinks the young generation that a burst of surviving allocations grew', () => {
    // Objects that survive several scavenges make V8 grow the young generation.
    const keep: number[][] = [];
    for (let i = 0; i < 200_000; i++) keep.push([i, i + 1, i + 2]);
    const grown = youngGeneration();
    expect(keep.length).toBe(200_000);
    keep.length = 0;
    expect(releaseStartupMemory()).toBe(true);
    expect(youngGeneration()).toBeLessThan(grown);
    expect('gc' in globalThis).toBe(false);
  });
});

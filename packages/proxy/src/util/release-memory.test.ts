import v8 from 'node:v8';
import { existsSync } from 'node:fs';
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
    expect(releaseStartupMemory()).toMatchObject({ gc: true });
    expect(youngGeneration()).toBeLessThan(grown);
    expect('gc' in globalThis).toBe(false);
  });

  // The addon is built by the package build (skipped only where gcc is missing, as the build is).
  it.skipIf(!existsSync(new URL('../../dist/native/malloc-trim.node', import.meta.url)))(
    "returns the C heap's free pages to the OS (malloc_trim)",
    () => {
      // Native memory freed by V8 after a burst of large typed arrays stays in glibc's arenas.
      let blocks: Uint8Array[] = [];
      for (let i = 0; i < 64; i++) blocks.push(new Uint8Array(64 * 1024).fill(1));
      blocks = [];
      expect(blocks.length).toBe(0);
      expect(releaseStartupMemory().trimmed).toBe(true);
    },
  );
});

import { describe, expect, it } from 'vitest';
import { watchIdle } from './idle-release.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Keeps this thread's event loop busy for `ms` (one long synchronous turn). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('watchIdle', () => {
  it('releases once when the thread goes quiet after being busy, and again only after more work', async () => {
    let releases = 0;
    const stop = watchIdle({ windowMs: 150, idleUtilization: 0.05, release: () => releases++ });
    try {
      await sleep(400); // never busy: nothing to give back
      expect(releases).toBe(0);
      await sleep(20);
      busy(120); // most of a window busy
      await sleep(500); // then quiet windows: one release, not one per window
      expect(releases).toBe(1);
      busy(120);
      await sleep(500);
      expect(releases).toBe(2);
    } finally {
      stop();
    }
  });

  it('does not release while the thread stays busy', async () => {
    let releases = 0;
    const stop = watchIdle({ windowMs: 100, idleUtilization: 0.05, release: () => releases++ });
    try {
      for (let i = 0; i < 6; i++) {
        busy(60);
        await sleep(20);
      }
      expect(releases).toBe(0);
    } finally {
      stop();
    }
  });
});

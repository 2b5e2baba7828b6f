// Gives memory back once a proxy that served traffic has gone quiet. skein-proxy runs without V8's
// memory reducer (bin/.skein-exec): the reducer's full collection comes a few seconds into any
// pause, and it discards much of the request path's optimised code (V8 holds the objects that code
// embeds weakly, and deoptimises it when one of them is collected: 70-130 functions per reducer
// collection in the bench), so every pause in traffic was followed by seconds of slower requests
// and recompilation (packages/proxy/README.md, "Steady state"). Instead, each thread that serves
// watches its own event loop: after a window in which it was busy, the first whole window in which
// it was nearly idle triggers one release (release-memory.ts), and nothing more until it is busy
// again.
import { performance } from 'node:perf_hooks';
import { releaseIdleMemory } from './release-memory.js';

export interface IdleReleaseOptions {
  /** Length of a window (ms): a release comes one to two windows into a quiet period. */
  windowMs: number;
  /** A window whose event-loop utilisation (0–1) is at most this counts as idle. */
  idleUtilization: number;
  /** What to do once the thread has gone idle after being busy. */
  release: () => void;
}

/** 60 s windows; idle below 0.2% of the event loop (an idle proxy's timers use far less). */
const IDLE_RELEASE_DEFAULTS = { windowMs: 60_000, idleUtilization: 0.002 } as const;

/** Starts watching this thread's event loop; returns a function that stops it. */
export function watchIdle(options: IdleReleaseOptions): () => void {
  let mark = performance.eventLoopUtilization();
  let busySinceRelease = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, mark);
    mark = now;
    if (window.utilization > options.idleUtilization) busySinceRelease = true;
    else if (busySinceRelease) {
      busySinceRelease = false;
      options.release();
    }
  }, options.windowMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Watches this thread with the defaults and gives memory back through `releaseIdleMemory`. */
export function releaseWhenIdle(): () => void {
  return watchIdle({ ...IDLE_RELEASE_DEFAULTS, release: releaseIdleMemory });
}

// What a test started, stopped after it: a stack of cleanups run last-first after each test.
import { afterEach } from 'vitest';

export type Cleanup = () => Promise<void> | void;

/** Registers an afterEach that runs (last first, each awaited) what the tests push on the stack returned. */
export function cleanupAfterEach(): Cleanup[] {
  const cleanup: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  return cleanup;
}

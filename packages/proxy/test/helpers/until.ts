// Polling until a condition holds, for the tests that wait on a proxy's state (the condition is the
// synchronisation, not the delay).

export interface UntilOptions {
  /** How long to wait before throwing (15 s). */
  timeoutMs?: number;
  /** How often to check (20 ms); the timing tests that read when something happened check every 10. */
  everyMs?: number;
}

/** Polls `check` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 15_000, everyMs = 20 }: UntilOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

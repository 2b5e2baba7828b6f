// `skein-agent wait`: hold the application until the proxy is ready (polls /healthz/ready).

export interface WaitOptions {
  url: string;
  timeoutMs: number;
  periodMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export async function waitForReady(o: WaitOptions): Promise<boolean> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.timeoutMs;
  for (;;) {
    try {
      const res = await fetch(o.url, {
        signal: AbortSignal.timeout(Math.max(1, Math.min(1000, deadline - now()))),
      });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not yet
    }
    if (now() + o.periodMs > deadline) return false;
    await sleep(o.periodMs);
  }
}

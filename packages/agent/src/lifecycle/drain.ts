// Graceful shutdown on SIGTERM: tell the proxy to drain its listeners (Envoy admin
// POST /drain_listeners?graceful&inboundonly), wait up to terminationDrainDuration — leaving early
// when no downstream connection remains, if asked — then stop the proxy.

export interface DrainOptions {
  adminUrl: string;
  drainDurationMs: number;
  /** Leave as soon as the proxy reports zero active downstream connections (Istio's EXIT_ON_ZERO_ACTIVE_CONNECTIONS). */
  exitOnZeroActiveConnections: boolean;
  /** Poll period for active connections; default 250 ms. */
  pollMs?: number;
  stopProxy: () => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Sum of `listener.<name>.downstream_cx_active` in Envoy's text /stats (the admin listener excluded). */
export function activeConnections(statsText: string): number {
  let total = 0;
  for (const line of statsText.split('\n')) {
    const m = /^listener\.(.+)\.downstream_cx_active: (\d+)$/.exec(line.trim());
    if (m && m[1] !== 'admin') total += Number(m[2]);
  }
  return total;
}

export async function drainProxy(o: DrainOptions): Promise<'zero-connections' | 'timeout'> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.drainDurationMs;
  try {
    await fetch(`${o.adminUrl}/drain_listeners?graceful&inboundonly`, {
      method: 'POST',
      signal: AbortSignal.timeout(1000),
    });
  } catch (e) {
    o.log?.('drain_listeners failed', { error: (e as Error).message });
  }
  let reason: 'zero-connections' | 'timeout' = 'timeout';
  while (now() < deadline) {
    if (o.exitOnZeroActiveConnections) {
      try {
        const res = await fetch(`${o.adminUrl}/stats?filter=downstream_cx_active`, {
          signal: AbortSignal.timeout(1000),
        });
        if (res.ok && activeConnections(await res.text()) === 0) {
          reason = 'zero-connections';
          break;
        }
      } catch {
        // The proxy may already be gone.
      }
    }
    await sleep(Math.min(o.pollMs ?? 250, Math.max(0, deadline - now())));
  }
  o.log?.('drain finished', { reason });
  o.stopProxy();
  return reason;
}

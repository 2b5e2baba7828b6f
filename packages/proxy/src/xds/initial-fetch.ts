// Envoy's `initial_fetch_timeout` during the start: how long the proxy waits for the first response
// of a discovery type (CDS, LDS; EDS per cluster in upstream-cluster.ts) before carrying on without
// it — 15 s by default, `0s` waits forever (Istio's bootstrap sets 0s for CDS and LDS).

export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** A ConfigSource's initial_fetch_timeout in milliseconds (0: no timeout). */
export function initialFetchTimeoutMs(
  source: { initialFetchTimeout?: string } | undefined,
  parse: (d: string | undefined) => number | undefined,
): number {
  return parse(source?.initialFetchTimeout) ?? DEFAULT_INITIAL_FETCH_TIMEOUT_MS;
}

/** One timer per discovery type, armed once when its subscription starts. */
export class InitialFetchTimers {
  private readonly timers = new Map<string, NodeJS.Timeout | undefined>();
  private readonly expiredTypes = new Set<string>();

  constructor(private readonly onExpired: (typeUrl: string) => void) {}

  /** Starts the wait for a type's first response (once per type; `ms` 0 waits forever). */
  arm(typeUrl: string, ms: number): void {
    if (this.timers.has(typeUrl)) return;
    if (ms <= 0) {
      this.timers.set(typeUrl, undefined);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.set(typeUrl, undefined);
      this.expiredTypes.add(typeUrl);
      this.onExpired(typeUrl);
    }, ms);
    timer.unref();
    this.timers.set(typeUrl, timer);
  }

  /** The type's first response arrived: its timer stops (and is never armed again). */
  done(typeUrl: string): void {
    clearTimeout(this.timers.get(typeUrl));
    this.timers.set(typeUrl, undefined);
  }

  /** The type's wait ran out before its first response. */
  expired(typeUrl: string): boolean {
    return this.expiredTypes.has(typeUrl);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

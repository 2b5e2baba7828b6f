// Envoy's `initial_fetch_timeout` during the start: how long the proxy waits for the first response
// of a discovery type (CDS, LDS; EDS per cluster in upstream-cluster.ts) before carrying on without
// it — 15 s by default, `0s` waits forever (Istio's bootstrap sets 0s for CDS and LDS). A first
// response that is rejected ends the wait too (Envoy: a failed update is the response).

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
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Types whose wait has started (armed, or already over). */
  private readonly started = new Set<string>();
  /** Types whose wait is over: an accepted response, a rejected one, or the timeout. */
  private readonly over = new Set<string>();
  private readonly expiredTypes = new Set<string>();

  constructor(private readonly onExpired: (typeUrl: string) => void) {}

  /** Starts the wait for a type's first response (once per type; `ms` 0 waits forever). */
  arm(typeUrl: string, ms: number): void {
    if (this.started.has(typeUrl)) return;
    this.started.add(typeUrl);
    if (ms <= 0 || this.over.has(typeUrl)) return;
    const timer = setTimeout(() => {
      this.end(typeUrl, true);
      this.onExpired(typeUrl);
    }, ms);
    timer.unref();
    this.timers.set(typeUrl, timer);
  }

  /** The type's first response was accepted: its wait is over (and is never armed again). */
  done(typeUrl: string): void {
    this.started.add(typeUrl);
    this.end(typeUrl, false);
  }

  /** The type's first response was rejected: the wait is over all the same. */
  failed(typeUrl: string): void {
    this.started.add(typeUrl);
    this.end(typeUrl, true);
  }

  /** The type's wait is over without an accepted response (timed out or rejected). */
  expired(typeUrl: string): boolean {
    return this.expiredTypes.has(typeUrl);
  }

  private end(typeUrl: string, withoutResponse: boolean): void {
    if (this.over.has(typeUrl)) return;
    this.over.add(typeUrl);
    if (withoutResponse) this.expiredTypes.add(typeUrl);
    clearTimeout(this.timers.get(typeUrl));
    this.timers.delete(typeUrl);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

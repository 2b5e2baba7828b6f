// Per-connection timers of the HCM on the raw-socket HTTP/1.1 codec, as Envoy's:
// `request_headers_timeout` for every request of a kept-alive connection (armed at the first byte
// of a request head, disarmed when the head is complete; 408 and close when it fires), and
// `common_http_protocol_options.max_connection_duration` (from the connection's start: an idle
// connection closes at once, a busy one answers its request in progress with `connection: close`
// and is force-closed after the HCM's `drain_timeout`, 5 s by default).
import { durationMs } from '../util/duration.js';
import type { HcmJson } from './connection-manager.js';

/** Envoy's default HCM drain_timeout. */
const DEFAULT_DRAIN_MS = 5000;

interface ConnectionLimits {
  maxDurationMs: number;
  drainMs: number;
}
const limitsCache = new WeakMap<HcmJson, ConnectionLimits>();

/** The HCM's max_connection_duration (0: none) and drain_timeout, read once per configuration. */
export function connectionLimitsOf(hcm: HcmJson): ConnectionLimits {
  let l = limitsCache.get(hcm);
  if (!l) {
    l = {
      maxDurationMs: durationMs(hcm.commonHttpProtocolOptions?.maxConnectionDuration) ?? 0,
      drainMs: durationMs(hcm.drainTimeout) ?? DEFAULT_DRAIN_MS,
    };
    limitsCache.set(hcm, l);
  }
  return l;
}

/** request_headers_timeout for each request head on one connection. */
export class RequestHeadersTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {}

  /** The first byte of a request head arrived. */
  readonly headStarted = (): void => {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onTimeout();
    }, this.ms);
    this.timer.unref();
  };

  /** The head is complete (or the connection is gone). */
  readonly headComplete = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
  };
}

/** What max_connection_duration acts on: the connection's own close-if-idle and force-close. */
export interface DrainableConnection {
  closeIfIdle(): void;
  destroy(): void;
}

/**
 * Arms max_connection_duration for one connection. When it is reached, `onReached` counts it,
 * `draining()` turns true (responses then close their connection), an idle connection closes
 * and a busy one is destroyed after the drain timeout. Returns `draining` and `clear` (on close).
 */
export function watchConnectionDuration(
  limits: ConnectionLimits,
  conn: DrainableConnection,
  onReached: () => void,
): { draining: () => boolean; clear: () => void } {
  let reached = false;
  let force: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    reached = true;
    onReached();
    conn.closeIfIdle();
    force = setTimeout(() => conn.destroy(), limits.drainMs);
    force.unref();
  }, limits.maxDurationMs);
  timer.unref();
  return {
    draining: () => reached,
    clear: () => {
      clearTimeout(timer);
      clearTimeout(force);
    },
  };
}

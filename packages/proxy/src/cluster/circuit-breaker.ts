// Per-cluster circuit breaker: limits on connections, pending requests, active requests and
// active retries (Envoy's defaults: 1024, 1024, 1024, 3). Overflow answers 503 with flag UO.
import type { circuitBreakerV3 } from '@skein/api-types';

export interface Limits {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
};

export function limitsOf(cb: circuitBreakerV3.CircuitBreakersJson | undefined): Limits {
  const t = (cb?.thresholds ?? []).find((x) => (x.priority ?? 'DEFAULT') === 'DEFAULT');
  return {
    maxConnections: t?.maxConnections ?? DEFAULT_LIMITS.maxConnections,
    maxPendingRequests: t?.maxPendingRequests ?? DEFAULT_LIMITS.maxPendingRequests,
    maxRequests: t?.maxRequests ?? DEFAULT_LIMITS.maxRequests,
    maxRetries: t?.maxRetries ?? DEFAULT_LIMITS.maxRetries,
  };
}

export class CircuitBreaker {
  activeRequests = 0;
  activeRetries = 0;
  constructor(public limits: Limits) {}

  /**
   * Admits a request or reports which limit overflowed. For HTTP/1.1 every request beyond the
   * connection limit waits for a connection, so it counts against the pending limit.
   */
  tryAcquire(): 'ok' | 'requests' | 'pending' {
    if (this.activeRequests >= this.limits.maxRequests) return 'requests';
    const pending = this.activeRequests - this.limits.maxConnections;
    if (pending >= this.limits.maxPendingRequests) return 'pending';
    this.activeRequests++;
    return 'ok';
  }

  release(): void {
    this.activeRequests = Math.max(0, this.activeRequests - 1);
  }

  tryRetry(): boolean {
    if (this.activeRetries >= this.limits.maxRetries) return false;
    this.activeRetries++;
    return true;
  }

  releaseRetry(): void {
    this.activeRetries = Math.max(0, this.activeRetries - 1);
  }
}

import { describe, expect, it } from 'vitest';
import { retryPolicyOf, shouldRetry, shouldRetryResponse, withConditions } from './retry-policy.js';

const GRPC: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  unavailable: 14,
  internal: 13,
};

/** Envoy's response conditions, written out directly: what the policy's tables must agree with. */
function expected(on: ReadonlySet<string>, codes: readonly number[], s: number, grpc?: number): boolean {
  if (on.has('5xx') && s >= 500) return true;
  if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
  if (on.has('retriable-4xx') && s === 409) return true;
  if (on.has('retriable-status-codes') && codes.includes(s)) return true;
  return grpc !== undefined && Object.entries(GRPC).some(([c, n]) => on.has(c) && n === grpc);
}

const CONDITIONS = [
  'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  '5xx',
  'gateway-error,retriable-4xx',
  'retriable-status-codes,deadline-exceeded,resource-exhausted,internal',
  'reset',
];

describe('shouldRetryResponse', () => {
  it('agrees with the conditions for every status, gRPC status and policy', () => {
    for (const retryOn of CONDITIONS) {
      const codes = [503, 418, 200, 700];
      const p = retryPolicyOf({ retryOn, retriableStatusCodes: codes })!;
      for (const s of [0, 100, 200, 404, 409, 418, 499, 500, 502, 503, 504, 599, 600, 700, 999])
        for (const g of [undefined, 0, 1, 4, 8, 13, 14]) {
          expect(shouldRetryResponse(p, s, g)).toBe(expected(p.on, codes, s, g));
          expect(shouldRetry(p, { kind: 'response', status: s, grpcStatus: g })).toBe(
            expected(p.on, codes, s, g),
          );
        }
    }
  });

  it('follows conditions added per request (x-envoy-retry-on), leaving the route policy as it was', () => {
    const p = retryPolicyOf({ retryOn: 'connect-failure', numRetries: 2 })!;
    const q = withConditions(p, new Set([...p.on, '5xx', 'unavailable']), 4);
    expect(q.numRetries).toBe(4);
    expect(shouldRetryResponse(q, 500, undefined)).toBe(true);
    expect(shouldRetryResponse(q, 200, 14)).toBe(true);
    expect(shouldRetryResponse(p, 500, undefined)).toBe(false);
    expect(shouldRetryResponse(p, 200, 14)).toBe(false);
    expect(withConditions(p, p.on, 5).statusRetried).toBe(p.statusRetried);
  });
});

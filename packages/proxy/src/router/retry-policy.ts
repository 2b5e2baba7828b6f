// Envoy retry policies: which outcomes are retried (retry_on conditions), how many times, the
// per-try timeout, backoff and the previous-hosts predicate. Pure decisions over an outcome.
import type { routeComponentsV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';

export interface RetryPolicy {
  on: ReadonlySet<string>;
  numRetries: number;
  perTryTimeoutMs: number | undefined;
  retriableStatusCodes: ReadonlySet<number>;
  avoidPreviousHosts: boolean;
  baseIntervalMs: number;
  maxIntervalMs: number;
  /** Per response status below 600: 1 when the conditions retry it (read per response). */
  statusRetried: Uint8Array;
  /** The gRPC status codes the conditions retry. */
  grpcRetried: readonly number[];
}

/** The outcome of one upstream attempt, as retry conditions see it. */
export type AttemptOutcome =
  | { kind: 'response'; status: number; grpcStatus: number | undefined }
  | { kind: 'connect-failure' }
  | { kind: 'reset' }
  | { kind: 'refused-stream' }
  | { kind: 'timeout' };

const GRPC_CODES: Record<string, number> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  unavailable: 14,
  internal: 13,
};

/** Compiled policies by their (immutable) configuration object: routes read them per request. */
const compiled = new WeakMap<routeComponentsV3.RetryPolicyJson, RetryPolicy>();

export function retryPolicyOf(p: routeComponentsV3.RetryPolicyJson | undefined): RetryPolicy | undefined {
  if (!p) return undefined;
  let policy = compiled.get(p);
  if (!policy) {
    policy = compileRetryPolicy(p);
    compiled.set(p, policy);
  }
  return policy;
}

/** The policy with other conditions and retry count (x-envoy-retry-on, x-envoy-max-retries). */
export function withConditions(p: RetryPolicy, on: ReadonlySet<string>, numRetries: number): RetryPolicy {
  if (on === p.on) return { ...p, numRetries };
  return { ...p, on, numRetries, ...responseTables(on, p.retriableStatusCodes) };
}

/** What a policy's conditions make of a response, as tables (see shouldRetryResponse). */
function responseTables(
  on: ReadonlySet<string>,
  codes: ReadonlySet<number>,
): Pick<RetryPolicy, 'statusRetried' | 'grpcRetried'> {
  const statusRetried = new Uint8Array(600);
  for (let s = 0; s < 600; s++) statusRetried[s] = statusRetriedBy(on, codes, s) ? 1 : 0;
  const grpcRetried: number[] = [];
  for (const [cond, code] of Object.entries(GRPC_CODES)) if (on.has(cond)) grpcRetried.push(code);
  return { statusRetried, grpcRetried };
}

function statusRetriedBy(on: ReadonlySet<string>, codes: ReadonlySet<number>, s: number): boolean {
  if (on.has('5xx') && s >= 500) return true;
  if (on.has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
  if (on.has('retriable-4xx') && s === 409) return true;
  return on.has('retriable-status-codes') && codes.has(s);
}

function compileRetryPolicy(p: routeComponentsV3.RetryPolicyJson): RetryPolicy {
  const on = new Set(
    (p.retryOn ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const base = durationMs(p.retryBackOff?.baseInterval) ?? 25;
  const retriableStatusCodes = new Set(p.retriableStatusCodes ?? []);
  return {
    on,
    numRetries: p.numRetries ?? 1,
    perTryTimeoutMs: durationMs(p.perTryTimeout) || undefined,
    retriableStatusCodes,
    avoidPreviousHosts: (p.retryHostPredicate ?? []).some(
      (x) =>
        x.name === 'envoy.retry_host_predicates.previous_hosts' ||
        (x.typedConfig?.['@type'] ?? '').endsWith('PreviousHostsPredicate'),
    ),
    baseIntervalMs: base,
    maxIntervalMs: durationMs(p.retryBackOff?.maxInterval) ?? base * 10,
    ...responseTables(on, retriableStatusCodes),
  };
}

/** True when the policy retries this outcome. */
export function shouldRetry(policy: RetryPolicy, o: AttemptOutcome): boolean {
  const on = policy.on;
  switch (o.kind) {
    case 'connect-failure':
      return on.has('connect-failure') || on.has('5xx') || on.has('gateway-error');
    case 'reset':
      return on.has('reset') || on.has('5xx') || on.has('gateway-error');
    case 'refused-stream':
      return on.has('refused-stream') || on.has('reset') || on.has('5xx');
    case 'timeout':
      return on.has('5xx') || on.has('gateway-error') || on.has('reset');
    case 'response':
      return shouldRetryResponse(policy, o.status, o.grpcStatus);
  }
}

/** True when the policy retries a response with this status (and gRPC status, if any). */
export function shouldRetryResponse(policy: RetryPolicy, s: number, grpcStatus: number | undefined): boolean {
  if (
    s >= 0 && s < 600
      ? policy.statusRetried[s] === 1
      : statusRetriedBy(policy.on, policy.retriableStatusCodes, s)
  )
    return true;
  return grpcStatus !== undefined && policy.grpcRetried.includes(grpcStatus);
}

/** Exponential backoff with full jitter before retry number `n` (1-based). */
export function backoffMs(policy: RetryPolicy, n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxIntervalMs, policy.baseIntervalMs * 2 ** (n - 1));
  return Math.floor(random() * ceiling);
}

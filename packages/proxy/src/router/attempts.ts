// The router's attempts with retries: picks a host per attempt (previous-hosts predicate), sends,
// classifies the outcome, and retries per policy (retry budget, backoff, per-try timeouts,
// x-envoy-attempt-count, upstream_rq_retry* stats, URX) until a response or the last failure.
// A first attempt made on the fast path (SingleAttempt) joins here when its outcome is retriable.
import type { Readable } from 'node:stream';
import type { routeComponentsV3 } from '@skein/api-types';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import type { Host } from '../endpoint/host.js';
import type { ProxyContext } from '../http-connection-manager/proxy-context.js';
import type { AbortLike } from './cancel.js';
import { requestHash } from './route-action.js';
import { backoffMs, shouldRetry, type AttemptOutcome, type RetryPolicy } from './retry-policy.js';
import type { RouterRequest, RouterResult } from './router-filter.js';
import { failureReply, type LocalReply } from './upstream-failure.js';
import { sendUpstream, type AttemptResult } from './upstream-request.js';
import { AttemptSignal, requestComplete, StreamDurationLimit } from './upstream-timeouts.js';
import type { UpstreamProtocol } from '../endpoint/upstream-pools.js';

/** Where the request goes and how, decided before any attempt. */
export interface AttemptPlan {
  action: routeComponentsV3.RouteActionJson;
  cluster: UpstreamCluster;
  headers: Record<string, string | string[]>;
  path: string;
  authority: string;
  timeoutMs: number;
  policy: RetryPolicy | undefined;
  protocol: UpstreamProtocol;
}

/** A first attempt already made (the fast path's), its outlier outcome already recorded. */
export interface FirstAttempt {
  result: AttemptResult;
  host: Host;
  abort: AttemptSignal | undefined;
  /** The route timeout's deadline, fixed before the first attempt (Infinity without one). */
  deadline: number;
  hash: number | undefined;
}

export function outcomeOf(r: AttemptResult): AttemptOutcome {
  if (!r.ok) return r.failure === 'aborted' ? { kind: 'reset' } : { kind: r.failure };
  return { kind: 'response', status: r.response.status, grpcStatus: grpcStatusOf(r.response.headers) };
}

/** The numeric `grpc-status` of a response head, if any. */
export function grpcStatusOf(headers: Record<string, string | string[]>): number | undefined {
  const g = headers['grpc-status'];
  return typeof g === 'string' && /^\d+$/.test(g) ? Number(g) : undefined;
}

function sleep(ms: number, signal: AbortLike): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

/** No host to send to: 503, flag UH. */
export function noHealthyUpstream(ctx: ProxyContext, cluster: UpstreamCluster): LocalReply {
  ctx.stats.inc('cluster.{envoy_cluster_name}.upstream_cx_none_healthy', {
    envoy_cluster_name: cluster.name,
  });
  return { kind: 'local', status: 503, body: 'no healthy upstream', flag: 'UH' };
}

/**
 * Runs the attempts of an admitted request (the circuit breaker's request slot is held; `release`
 * gives it back once). `body` is the buffered body (replayable), a one-shot stream or none;
 * `first`, when given, is attempt 1, already made.
 */
export async function runAttempts(
  ctx: ProxyContext,
  req: RouterRequest,
  plan: AttemptPlan,
  body: Buffer | Readable | undefined,
  canReplay: boolean,
  release: () => void,
  first: FirstAttempt | undefined,
): Promise<RouterResult> {
  const { action, cluster, headers, path, authority, timeoutMs, policy, protocol } = plan;
  const { stats } = ctx;
  const ct = { envoy_cluster_name: cluster.name };
  const perTry = policy?.perTryTimeoutMs;
  const hash = first ? first.hash : requestHash(action, req.view, req.conn.remoteAddress);
  const deadline = first ? first.deadline : timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  const maxAttempts = 1 + (policy && canReplay ? policy.numRetries : 0);
  // Hosts already tried: kept only for the previous-hosts predicate.
  const tried = policy?.avoidPreviousHosts ? new Set<string>() : undefined;
  let last: AttemptResult | undefined;
  let retriesUsed = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let host: Host;
    let abort: AttemptSignal | undefined;
    let maxDuration: StreamDurationLimit | undefined;
    let result: AttemptResult;
    if (attempt === 1 && first) {
      ({ host, abort, result } = first);
      tried?.add(host.key);
    } else {
      const now = Date.now();
      const picked = cluster.pick({ now, hash, avoid: tried, originalDst: req.conn.originalDst });
      if (!picked) {
        release();
        return noHealthyUpstream(ctx, cluster);
      }
      host = picked;
      tried?.add(host.key);
      req.info.attempts = attempt;
      req.info.upstreamHost = host.key;
      const remaining = deadline - now;
      const tryMs = Math.min(remaining, perTry ?? Infinity);
      maxDuration =
        cluster.maxStreamDurationMs > 0 ? new StreamDurationLimit(cluster.maxStreamDurationMs) : undefined;
      // Route and per-try timeouts count from the end of the downstream request (still streaming
      // only on a first attempt that could not buffer it).
      abort =
        Number.isFinite(tryMs) || maxDuration
          ? new AttemptSignal(
              req.downstreamGone,
              Buffer.isBuffer(body) ? body : req.body,
              Number.isFinite(tryMs) ? Math.max(1, tryMs) : undefined,
              maxDuration?.signal,
            )
          : undefined;
      if (attempt > 1) headers['x-envoy-attempt-count'] = String(attempt);
      else if (req.vhost.includeRequestAttemptCount) headers['x-envoy-attempt-count'] = '1';
      host.activeRequests++;
      result = await sendUpstream(cluster, host, {
        ...(req.conn.originalSource ? { originalSource: req.conn.originalSource } : {}),
        method: req.method,
        path,
        authority,
        headers,
        body: Buffer.isBuffer(body) ? body : attempt === 1 ? body : undefined,
        protocol,
        signal: abort ? abort.signal : req.downstreamGone,
      });
      if (!result.ok) abort?.clear();
      if (cluster.outlier) {
        const o = outcomeOf(result);
        cluster.outlier.record(
          host,
          o.kind === 'response' ? o.status : o.kind === 'refused-stream' ? 'reset' : o.kind,
          Date.now(),
        );
      }
    }
    last = result;
    if (!result.ok && result.failure === 'aborted') {
      host.activeRequests--;
      if (maxDuration?.fired) {
        stats.inc('cluster.{envoy_cluster_name}.upstream_rq_max_duration_reached', ct);
        // Envoy resets the stream and retries it as a reset when the retry policy says so.
        const again = policy && shouldRetry(policy, { kind: 'reset' }) && attempt < maxAttempts;
        if (again && Date.now() < deadline && cluster.circuitBreaker.tryRetry()) {
          stats.inc('cluster.{envoy_cluster_name}.upstream_rq_retry', ct);
          await sleep(backoffMs(policy, ++retriesUsed), req.downstreamGone);
          cluster.circuitBreaker.releaseRetry();
          continue;
        }
      }
      release();
      if (maxDuration?.fired) {
        const status = requestComplete(Buffer.isBuffer(body) ? body : req.body) ? 504 : 408;
        return { kind: 'local', status, body: 'upstream max stream duration reached', flag: 'UMSDR' };
      }
      return { kind: 'local', status: 499, body: '', flag: 'DC' };
    }
    if (!result.ok) maxDuration?.clear();
    const retriable = policy !== undefined && shouldRetry(policy, outcomeOf(result));
    let retry = retriable && attempt < maxAttempts && Date.now() < deadline;
    if (retry && !cluster.circuitBreaker.tryRetry()) {
      stats.inc('cluster.{envoy_cluster_name}.upstream_rq_retry_overflow', ct);
      retry = false;
    }
    if (!retry) {
      if (retriable && attempt > 1) req.info.responseFlags.add('URX');
      if (result.ok) {
        // Reached while the response streams: the stream is reset, flagged UMSDR.
        maxDuration?.whenFired(() => {
          req.info.responseFlags.add('UMSDR');
          stats.inc('cluster.{envoy_cluster_name}.upstream_rq_max_duration_reached', ct);
        });
        const attemptAbort = abort;
        const attemptDuration = maxDuration;
        const attemptHost = host;
        const done = (): void => {
          attemptAbort?.clear();
          attemptDuration?.clear();
          attemptHost.activeRequests--;
          release();
        };
        const timedOut = (): boolean => attemptAbort?.timedOut === true;
        return { kind: 'response', response: result.response, cluster, host, release: done, timedOut };
      }
      host.activeRequests--;
      break;
    }
    // Discard this attempt's response and back off.
    abort?.clear();
    maxDuration?.clear();
    if (result.ok) result.response.body.resume();
    host.activeRequests--;
    retriesUsed++;
    stats.inc('cluster.{envoy_cluster_name}.upstream_rq_retry', ct);
    await sleep(backoffMs(policy!, retriesUsed), req.downstreamGone);
    cluster.circuitBreaker.releaseRetry();
  }
  release();
  const failure = last && !last.ok && last.failure !== 'aborted' ? last.failure : 'reset';
  return failureReply(stats, cluster.name, failure);
}

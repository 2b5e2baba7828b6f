// The router's common request as one object: a single HTTP/1.1 attempt on the raw-socket pool,
// with no mirror or stream duration limit — the only attempt of a route without a retry policy, or
// the first attempt of a retrying route's bodiless request. It is the pool's exchange, the pool's
// pending entry and the router's result, so the HCM's `await` is the only promise between the
// downstream request and the upstream response (the general path in router-filter.ts goes
// through an async frame per layer: router, attempt, protocol, pool). A retriable outcome (per the
// route's policy) hands the attempt to the general attempts loop (attempts.ts) as its attempt 1.
import type { Readable } from 'node:stream';
import type { routeComponentsV3 } from '@skein/api-types';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import type { Host } from '../endpoint/host.js';
import type { Http1Exchange, Http1Pending, Http1Response } from '../endpoint/http1-pool.js';
import type { ProxyContext } from '../http-connection-manager/proxy-context.js';
import { grpcStatusOf, runAttempts } from './attempts.js';
import type { AbortLike } from './cancel.js';
import { shouldRetry, shouldRetryResponse, type RetryPolicy } from './retry-policy.js';
import type { RouterRequest, RouterResult } from './router-filter.js';
import { failureReply, type LocalReply } from './upstream-failure.js';
import { classify, type AttemptResult } from './upstream-request.js';
import type { AttemptSignal } from './upstream-timeouts.js';

export class SingleAttempt implements Http1Exchange, Http1Pending {
  readonly kind = 'response';
  /** Set when the response head arrives (the promise resolves with this object then). */
  response!: Http1Response;
  readonly promise: Promise<RouterResult>;
  private settle!: (r: SingleAttempt | LocalReply | Promise<RouterResult>) => void;
  private breakerHeld = true;
  readonly method: string;

  constructor(
    private readonly ctx: ProxyContext,
    private readonly req: RouterRequest,
    private readonly action: routeComponentsV3.RouteActionJson,
    readonly cluster: UpstreamCluster,
    readonly host: Host,
    readonly path: string,
    readonly authority: string,
    readonly headers: Record<string, string | string[]>,
    readonly body: Readable | undefined,
    readonly signal: AbortLike,
    private readonly abort: AttemptSignal | undefined,
    private readonly timeoutMs: number,
    /** The route's retry policy: this is then the first of possibly several attempts. */
    private readonly policy: RetryPolicy | undefined,
    private readonly hash: number | undefined,
    /** The route timeout's deadline (Infinity without one), for the attempts after this one. */
    private readonly deadline: number,
  ) {
    this.method = req.method;
    this.promise = new Promise((resolve) => (this.settle = resolve));
  }

  /** The exchange the pool writes is this object. */
  get x(): Http1Exchange {
    return this;
  }

  /** The response head arrived: the attempt's outcome for outlier detection, then the result. */
  resolve(res: Http1Response): void {
    this.cluster.outlier?.record(this.host, res.status, Date.now());
    this.response = res;
    const p = this.policy;
    if (p !== undefined && shouldRetryResponse(p, res.status, grpcStatusOf(res.headers)))
      this.settle(this.continueWithRetries({ ok: true, response: res }));
    else this.settle(this);
  }

  /** No response: a reset, a connect failure, a timeout or the downstream gone (499, DC). */
  reject(err: unknown): void {
    const r = classify(err, this.signal);
    const failure = r.ok ? 'reset' : r.failure;
    this.abort?.clear();
    const o = failure === 'aborted' || failure === 'refused-stream' ? 'reset' : failure;
    this.cluster.outlier?.record(this.host, o, Date.now());
    const p = this.policy;
    if (p !== undefined && failure !== 'aborted' && shouldRetry(p, { kind: failure })) {
      const detail = r.ok ? '' : r.detail;
      this.settle(this.continueWithRetries({ ok: false, failure, detail }));
      return;
    }
    this.host.activeRequests--;
    this.releaseBreaker();
    this.settle(
      failure === 'aborted'
        ? { kind: 'local', status: 499, body: '', flag: 'DC' }
        : failureReply(this.ctx.stats, this.cluster.name, failure),
    );
  }

  /** The response is over (ended, failed or abandoned): timers off, counts given back. */
  release(): void {
    this.abort?.clear();
    this.host.activeRequests--;
    this.releaseBreaker();
  }

  /** True once the route timeout has fired: it covers the response body too. */
  timedOut(): boolean {
    return this.abort?.timedOut === true;
  }

  /**
   * The general attempts loop from this attempt's retriable outcome on: it decides the retry
   * (attempts left, deadline, retry budget) exactly as for its own attempts, and owns this
   * attempt's host count, timers and circuit breaker slot from here.
   */
  private continueWithRetries(result: AttemptResult): Promise<RouterResult> {
    const plan = {
      action: this.action,
      cluster: this.cluster,
      headers: this.headers,
      path: this.path,
      authority: this.authority,
      timeoutMs: this.timeoutMs,
      policy: this.policy,
      protocol: 'http1' as const,
    };
    const first = { result, host: this.host, abort: this.abort, deadline: this.deadline, hash: this.hash };
    return runAttempts(this.ctx, this.req, plan, undefined, true, () => this.releaseBreaker(), first);
  }

  private releaseBreaker(): void {
    if (this.breakerHeld) {
      this.breakerHeld = false;
      this.cluster.circuitBreaker.release();
    }
  }
}

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

/** Who takes a router result directly, instead of awaiting a promise (the HCM's stream). */
export interface RouteSink {
  routed(result: RouterResult): void;
  /** The router itself failed (an exception, not an upstream failure: those are results). */
  routeFailed(err: unknown): void;
}

type Outcome = SingleAttempt | LocalReply | Promise<RouterResult>;

/**
 * Attempts settled in this turn, delivered to their sinks in one microtask, in settling order: the
 * sink runs where an `await` of the result would have resumed, with no promise, resolving
 * functions or closure per request.
 */
const settled: (SingleAttempt | undefined)[] = [];
/** How many of `settled` wait (the array keeps its backing store: `length = 0` would free it). */
let waiting = 0;

function schedule(a: SingleAttempt): void {
  settled[waiting++] = a;
  if (waiting === 1) queueMicrotask(deliverSettled);
}

function deliverSettled(): void {
  // Attempts settled while delivering join this loop; a sink's exception does not stop the others.
  for (let i = 0; i < waiting; i++) {
    const a = settled[i]!;
    settled[i] = undefined;
    try {
      a.deliver();
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }
  waiting = 0;
}

export class SingleAttempt implements Http1Exchange, Http1Pending {
  readonly kind = 'response';
  /** Set when the response head arrives (the result is then this object). */
  response!: Http1Response;
  /** The outcome, once settled, until it is delivered. */
  private outcome: Outcome | undefined = undefined;
  private sink: RouteSink | undefined = undefined;
  private hasSettled = false;
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
  }

  /** The result as a promise (for callers that await it; the HCM passes itself to `deliverTo`). */
  get promise(): Promise<RouterResult> {
    return new Promise((resolve, reject) => this.deliverTo({ routed: resolve, routeFailed: reject }));
  }

  /** `sink` gets the result in a microtask once the attempt has settled (or now settles). */
  deliverTo(sink: RouteSink): void {
    this.sink = sink;
    if (this.outcome !== undefined) schedule(this);
  }

  /** The first outcome counts, as a promise's first resolution does. */
  private settle(r: Outcome): void {
    if (this.hasSettled) return;
    this.hasSettled = true;
    this.outcome = r;
    if (this.sink !== undefined) schedule(this);
  }

  /** Hands the outcome to the sink (a retry's promise: when it settles); called by deliverSettled. */
  deliver(): void {
    const o = this.outcome;
    const sink = this.sink;
    if (o === undefined || sink === undefined) return;
    this.outcome = undefined;
    if (o instanceof Promise) {
      o.then(
        (r) => sink.routed(r),
        (e: unknown) => sink.routeFailed(e),
      );
      return;
    }
    try {
      sink.routed(o);
    } catch (e) {
      sink.routeFailed(e);
    }
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

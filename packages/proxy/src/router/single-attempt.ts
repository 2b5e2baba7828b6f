// The router's common request as one object: a single HTTP/1.1 attempt on the raw-socket pool,
// with no retry policy, mirror or stream duration limit. It is the pool's exchange, the pool's
// pending entry and the router's result, so the HCM's `await` is the only promise between the
// downstream request and the upstream response (the general path in router-filter.ts goes
// through an async frame per layer: router, attempt, protocol, pool).
import type { Readable } from 'node:stream';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import type { Host } from '../endpoint/host.js';
import type { Http1Exchange, Http1Pending, Http1Response } from '../endpoint/http1-pool.js';
import type { StatsStore } from '../stats/stats-store.js';
import type { AbortLike } from './cancel.js';
import { failureReply, type LocalReply } from './upstream-failure.js';
import { classify } from './upstream-request.js';
import type { AttemptSignal } from './upstream-timeouts.js';

export class SingleAttempt implements Http1Exchange, Http1Pending {
  readonly kind = 'response';
  /** Set when the response head arrives (the promise resolves with this object then). */
  response!: Http1Response;
  readonly promise: Promise<SingleAttempt | LocalReply>;
  private settle!: (r: SingleAttempt | LocalReply) => void;
  private breakerHeld = true;

  constructor(
    private readonly stats: StatsStore,
    readonly cluster: UpstreamCluster,
    readonly host: Host,
    readonly method: string,
    readonly path: string,
    readonly authority: string,
    readonly headers: Record<string, string | string[]>,
    readonly body: Readable | undefined,
    readonly signal: AbortLike,
    private readonly abort: AttemptSignal | undefined,
  ) {
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
    this.settle(this);
  }

  /** No response: a reset, a connect failure, a timeout or the downstream gone (499, DC). */
  reject(err: unknown): void {
    const r = classify(err, this.signal);
    const failure = r.ok ? 'reset' : r.failure;
    this.abort?.clear();
    const o = failure === 'aborted' || failure === 'refused-stream' ? 'reset' : failure;
    this.cluster.outlier?.record(this.host, o, Date.now());
    this.host.activeRequests--;
    this.releaseBreaker();
    this.settle(
      failure === 'aborted'
        ? { kind: 'local', status: 499, body: '', flag: 'DC' }
        : failureReply(this.stats, this.cluster.name, failure),
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

  private releaseBreaker(): void {
    if (this.breakerHeld) {
      this.breakerHeld = false;
      this.cluster.circuitBreaker.release();
    }
  }
}

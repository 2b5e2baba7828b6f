// The router's timers that depend on the request's progress, as Envoy counts them:
// - the route `timeout` (and `per_try_timeout`) start once the whole downstream request has been
//   received (its end of stream), not when routing starts — a slow upload is bounded by the
//   HCM's stream idle and request timeouts, the route timeout by the wait for the response;
// - the cluster's `max_stream_duration` bounds each upstream request from its start: before the
//   response headers the client gets 408 (request still arriving) or 504, flag `UMSDR`; after
//   them the stream is reset.
import type { Readable } from 'node:stream';
import { Cancel, type AbortLike } from './cancel.js';

/** The reason an attempt's signal carries when its route (or per-try) timeout fires. */
function timeoutReason(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/**
 * One upstream attempt's abort signal: aborted when the downstream goes away, when the route (or
 * per-try) timeout fires — counted from the end of the downstream request, its reason a
 * TimeoutError — or when `also` (the cluster's max stream duration) aborts. One controller and
 * one timer, both dropped by `clear()` once the exchange is over: AbortSignal.timeout kept a timer
 * and its signal alive for the whole timeout after every response, and AbortSignal.any built a
 * composite signal (weak references, a finalization registry) per request.
 */
export class AttemptSignal {
  private readonly ac = new Cancel();
  private timer: NodeJS.Timeout | undefined;
  private waiting: Readable | undefined;
  private fired = false;
  private readonly onGone = (): void => this.ac.abort(this.downstream.reason);
  private readonly onAlso = (): void => this.ac.abort(this.also?.reason);
  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.fired = true;
    this.ac.abort(timeoutReason());
  };
  private readonly onRequestEnd = (): void => {
    this.waiting = undefined;
    if (!this.ac.aborted) this.arm();
  };

  constructor(
    private readonly downstream: AbortLike,
    body: Readable | Buffer | undefined,
    private readonly timeoutMs: number | undefined,
    private readonly also: AbortSignal | undefined,
  ) {
    if (downstream.aborted) this.ac.abort(downstream.reason);
    else downstream.addEventListener('abort', this.onGone, { once: true });
    if (also) {
      if (also.aborted) this.ac.abort(also.reason);
      else also.addEventListener('abort', this.onAlso, { once: true });
    }
    if (timeoutMs === undefined || this.ac.aborted) return;
    if (requestComplete(body)) this.arm();
    else {
      this.waiting = body as Readable;
      this.waiting.once('end', this.onRequestEnd);
    }
  }

  private arm(): void {
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    this.timer.unref();
  }

  get signal(): AbortLike {
    return this.ac;
  }

  /** Whether the route (or per-try) timeout has fired. */
  get timedOut(): boolean {
    return this.fired;
  }

  /** The exchange is over: no timer left behind, no listener on the downstream's signal. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting?.off('end', this.onRequestEnd);
    this.waiting = undefined;
    this.downstream.removeEventListener('abort', this.onGone);
    this.also?.removeEventListener('abort', this.onAlso);
  }
}

/** Whether the downstream request has been received in full. */
export function requestComplete(body: Readable | Buffer | undefined): boolean {
  return body === undefined || Buffer.isBuffer(body) || body.readableEnded;
}

/** The reason an upstream request is aborted with when its max_stream_duration is reached. */
export class UpstreamMaxStreamDuration extends Error {
  override readonly name = 'UpstreamMaxStreamDurationReached';
}

/** One upstream request's max_stream_duration: its signal aborts when the duration is reached. */
export class StreamDurationLimit {
  private readonly ac = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private onFire: (() => void) | undefined;

  constructor(ms: number) {
    this.timer = setTimeout(() => {
      this.ac.abort(new UpstreamMaxStreamDuration('upstream max stream duration reached'));
      this.onFire?.();
    }, ms);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  get fired(): boolean {
    return this.ac.signal.aborted;
  }

  /** Called if the limit is reached later (while the response streams). */
  whenFired(fn: () => void): void {
    this.onFire = fn;
  }

  /** The upstream request is over: the limit no longer applies. */
  clear(): void {
    clearTimeout(this.timer);
    this.onFire = undefined;
  }
}

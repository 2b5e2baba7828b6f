// The router's timers that depend on the request's progress, as Envoy counts them:
// - the route `timeout` (and `per_try_timeout`) start once the whole downstream request has been
//   received (its end of stream), not when routing starts — a slow upload is bounded by the
//   HCM's stream idle and request timeouts, the route timeout by the wait for the response;
// - the cluster's `max_stream_duration` bounds each upstream request from its start: before the
//   response headers the client gets 408 (request still arriving) or 504, flag `UMSDR`; after
//   them the stream is reset.
import type { Readable } from 'node:stream';

/**
 * An abort signal that fires `ms` after the downstream request is complete: at once when `body`
 * is absent, buffered or over, else `ms` after its 'end'.
 */
export function timeoutAfterRequest(body: Readable | Buffer | undefined, ms: number): AbortSignal {
  if (body === undefined || Buffer.isBuffer(body) || body.readableEnded) return AbortSignal.timeout(ms);
  const ac = new AbortController();
  body.once('end', () => {
    if (ac.signal.aborted) return;
    const t = AbortSignal.timeout(ms);
    t.addEventListener('abort', () => ac.abort(t.reason), { once: true });
  });
  return ac.signal;
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

// A request's cancellation token: the members of AbortSignal the request path uses (aborted,
// reason, abort listeners), without an EventTarget per request (its listener map, option
// validation and listener records). A real AbortSignal is made only for an API that needs one.

/** What the request path reads from a cancellation signal; an AbortSignal is one too. */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

type Listener = () => void;

export class Cancel implements AbortLike {
  aborted = false;
  reason: unknown = undefined;
  /** One listener (the common case) or several. */
  private listeners: Listener | Listener[] | undefined;
  private real: AbortController | undefined;

  addEventListener(_type: 'abort', listener: Listener, _options?: { once?: boolean }): void {
    if (this.aborted) return;
    const l = this.listeners;
    if (l === undefined) this.listeners = listener;
    else if (typeof l === 'function') this.listeners = [l, listener];
    else l.push(listener);
  }

  removeEventListener(_type: 'abort', listener: Listener): void {
    const l = this.listeners;
    if (l === listener) this.listeners = undefined;
    else if (Array.isArray(l)) {
      const i = l.indexOf(listener);
      if (i >= 0) l.splice(i, 1);
    }
  }

  /** Aborts once: every listener runs once (as `{ once: true }` ones), in the order added. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    const l = this.listeners;
    this.listeners = undefined;
    if (typeof l === 'function') call(l);
    else if (l) for (const f of l) call(f);
    this.real?.abort(this.reason);
  }

  /** A real AbortSignal following this token (made on first use). */
  get signal(): AbortSignal {
    if (!this.real) {
      this.real = new AbortController();
      if (this.aborted) this.real.abort(this.reason);
    }
    return this.real.signal;
  }
}

/** As EventTarget does, a listener's exception does not stop the others: it is rethrown later. */
function call(f: Listener): void {
  try {
    f();
  } catch (e) {
    process.nextTick(() => {
      throw e;
    });
  }
}

/** An AbortSignal for APIs that need a real one (undici, http2). */
export function abortSignalOf(s: AbortLike): AbortSignal {
  return s instanceof Cancel ? s.signal : (s as AbortSignal);
}

// Debounced pushes, as Istio debounces: changes are merged until the configuration has been quiet
// for `quietMs` since the latest change was *observed* (the file or informer event, carried as a
// request's `changeAt`), or `maxDelayMs` passed since the first unpushed change was enqueued, then
// flushed as one push request. Time a change already spent settling, parsing and rebuilding the
// snapshot counts toward its quiet window.
import type { PushRequest } from './push-scope.js';

export interface PushQueueOptions {
  readonly quietMs: number;
  readonly maxDelayMs: number;
  readonly flush: (req: PushRequest) => void;
  readonly now?: () => number;
}

export class PushQueue {
  private pending:
    | {
        full: boolean;
        hosts: Set<string>;
        types: Set<string> | undefined;
        /** The earliest observation (convergence time counts from it). */
        changeAt: number;
        /** The latest observation (the quiet window runs from it). */
        lastObservedAt: number;
        reasons: Set<string>;
      }
    | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private firstAt = 0;
  private readonly now: () => number;

  constructor(private readonly opts: PushQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  enqueue(req: PushRequest): void {
    const now = this.now();
    // A stamp from the future (another clock) must not stretch the window past now + quietMs.
    const observed = Math.min(req.changeAt, now);
    if (!this.pending) {
      this.firstAt = now;
      this.pending = {
        full: req.full,
        hosts: new Set(req.hosts),
        types: req.types ? new Set(req.types) : undefined,
        changeAt: req.changeAt,
        lastObservedAt: observed,
        reasons: new Set([req.reason]),
      };
    } else {
      const p = this.pending;
      p.full ||= req.full;
      for (const h of req.hosts) p.hosts.add(h);
      if (!req.types) p.types = undefined;
      else if (p.types) for (const t of req.types) p.types.add(t);
      p.changeAt = Math.min(p.changeAt, req.changeAt);
      p.lastObservedAt = Math.max(p.lastObservedAt, observed);
      p.reasons.add(req.reason);
    }
    this.cancel();
    const due = Math.min(
      this.pending.lastObservedAt + this.opts.quietMs,
      this.firstAt + this.opts.maxDelayMs,
    );
    // Already quiet long enough: push after this turn (changes enqueued in it still coalesce).
    if (due <= now) this.immediate = setImmediate(() => this.flushNow());
    else this.timer = setTimeout(() => this.flushNow(), due - now);
  }

  /** Pushes whatever is pending right away. */
  flushNow(): void {
    this.cancel();
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    this.opts.flush({
      full: p.full,
      hosts: p.hosts,
      types: p.types ? [...p.types] : undefined,
      changeAt: p.changeAt,
      reason: [...p.reasons].sort().join(','),
    });
  }

  stop(): void {
    this.cancel();
    this.pending = undefined;
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}

// Debounced pushes: changes are merged until the configuration has been quiet for `quietMs`, or
// `maxDelayMs` passed since the first unpushed change, then flushed as one push request.
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
        changeAt: number;
        reasons: Set<string>;
      }
    | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;
  private readonly now: () => number;

  constructor(private readonly opts: PushQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  enqueue(req: PushRequest): void {
    const now = this.now();
    if (!this.pending) {
      this.firstAt = now;
      this.pending = {
        full: req.full,
        hosts: new Set(req.hosts),
        types: req.types ? new Set(req.types) : undefined,
        changeAt: req.changeAt,
        reasons: new Set([req.reason]),
      };
    } else {
      const p = this.pending;
      p.full ||= req.full;
      for (const h of req.hosts) p.hosts.add(h);
      if (!req.types) p.types = undefined;
      else if (p.types) for (const t of req.types) p.types.add(t);
      p.changeAt = Math.min(p.changeAt, req.changeAt);
      p.reasons.add(req.reason);
    }
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.opts.quietMs, this.firstAt + this.opts.maxDelayMs - now));
    this.timer = setTimeout(() => this.flushNow(), wait);
  }

  /** Pushes whatever is pending right away. */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}

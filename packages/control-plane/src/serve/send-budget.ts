// Bounded fan-out: pushes to many streams run one stream at a time while the bytes handed to
// gRPC and not yet written out stay under a budget; the rest wait in FIFO order. Without it a
// push of a large resource to thousands of streams would queue a copy per stream at once.
// With `streamsPerTurn`, at most that many streams are written per event-loop turn and the rest
// continue on the next (setImmediate): the first streams' bytes go out to the sockets while later
// streams are still being prepared, instead of every write waiting for the whole loop.

export interface SendBudgetOptions {
  /** Bytes in flight (written to streams, not yet flushed) above which new work waits. */
  readonly budgetBytes: number;
  /** Work items run per event-loop turn before yielding (default: no limit). */
  readonly streamsPerTurn?: number | undefined;
}

export class SendBudget<K> {
  private readonly queue = new Map<K, () => void>();
  private readonly inFlight = new Map<K, number>();
  private total = 0;
  private pumping = false;
  private resume: NodeJS.Immediate | undefined;
  private usedThisTurn = 0;

  constructor(private readonly opts: SendBudgetOptions) {}

  /** Bytes written and not yet flushed. */
  get bytesInFlight(): number {
    return this.total;
  }

  /** Streams waiting for the budget. */
  get waiting(): number {
    return this.queue.size;
  }

  /**
   * Runs `work` for `key` now if the budget (and this turn's `streamsPerTurn`) allows, else when
   * it does. A key already waiting keeps its place; its latest `work` is what runs.
   */
  schedule(key: K, work: () => void): void {
    // Nothing waiting, room in the budget, no per-turn limit: run it now without queueing it.
    if (
      !this.pumping &&
      this.queue.size === 0 &&
      this.total < this.opts.budgetBytes &&
      this.opts.streamsPerTurn === undefined
    ) {
      this.pumping = true; // work scheduled from inside work is queued and run below
      try {
        work();
      } finally {
        this.pumping = false;
      }
      this.pump();
      return;
    }
    this.queue.set(key, work); // Map.set keeps an existing key's position
    this.pump();
  }

  /**
   * Records `bytes` written for `key`; the returned function (idempotent) releases them once
   * they are flushed.
   */
  track(key: K, bytes: number): () => void {
    this.total += bytes;
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.inFlight.get(key);
      if (held === undefined) return; // already released by forget()
      const left = held - bytes;
      this.total -= bytes;
      if (left <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
      this.pump();
    };
  }

  /** Drops a key (its stream closed): its waiting work and its bytes in flight. */
  forget(key: K): void {
    this.queue.delete(key);
    this.total -= this.inFlight.get(key) ?? 0;
    this.inFlight.delete(key);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return; // work scheduled from inside work runs in this loop
    this.pumping = true;
    const perTurn = this.opts.streamsPerTurn ?? Infinity;
    try {
      while (this.queue.size > 0 && this.total < this.opts.budgetBytes) {
        if (this.usedThisTurn >= perTurn) return this.nextTurn();
        const [key, work] = this.queue.entries().next().value as [K, () => void];
        this.queue.delete(key);
        work();
        if (perTurn !== Infinity) {
          this.usedThisTurn++;
          this.nextTurn();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The count of work run restarts on the next event-loop turn, which goes on with the queue. */
  private nextTurn(): void {
    this.resume ??= setImmediate(() => {
      this.resume = undefined;
      this.usedThisTurn = 0;
      this.pump();
    });
  }

  /** Stops a pending continuation (the server is closing). */
  close(): void {
    if (this.resume) clearImmediate(this.resume);
    this.resume = undefined;
    this.queue.clear();
  }
}

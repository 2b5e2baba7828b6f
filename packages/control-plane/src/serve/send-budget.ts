// Bounded fan-out: pushes to many streams run one stream at a time while the bytes handed to
// gRPC and not yet written out stay under a budget; the rest wait in FIFO order. Without it a
// push of a large resource to thousands of streams would queue a copy per stream at once.

export interface SendBudgetOptions {
  /** Bytes in flight (written to streams, not yet flushed) above which new work waits. */
  readonly budgetBytes: number;
}

export class SendBudget<K> {
  private readonly queue = new Map<K, () => void>();
  private readonly inFlight = new Map<K, number>();
  private total = 0;
  private pumping = false;

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
   * Runs `work` for `key` now if the budget allows, else when it does. A key already waiting
   * keeps its place; its latest `work` is what runs.
   */
  schedule(key: K, work: () => void): void {
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
    try {
      while (this.queue.size > 0 && this.total < this.opts.budgetBytes) {
        const [key, work] = this.queue.entries().next().value as [K, () => void];
        this.queue.delete(key);
        work();
      }
    } finally {
      this.pumping = false;
    }
  }
}

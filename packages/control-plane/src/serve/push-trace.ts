// `--trace-push`: wall-clock timestamps of one change's way through skeind — file event, scan,
// parse, snapshot, debounce, push, first and last stream write — logged as one line per push, so
// a benchmark can line them up with its own clock (epoch milliseconds with sub-ms precision).

export type PushStage =
  | 'fileEvent'
  | 'scanStart'
  | 'parsed'
  | 'snapshotBuilt'
  | 'debounceFired'
  | 'pushReturned'
  | 'firstWrite'
  | 'lastWrite';

/** A trace is opened by the first stage of a change and closed (taken) when its push is logged. */
export class PushTrace {
  private stages: Partial<Record<PushStage, number>> | undefined;
  private writes = 0;

  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  /** Records the first time `stage` happened, opening a trace if none is open. */
  open(stage: PushStage): void {
    const s = (this.stages ??= {});
    s[stage] ??= this.now();
  }

  /** Records the first time `stage` happened in the open trace (nothing when none is). */
  mark(stage: PushStage): void {
    const s = this.stages;
    if (s) s[stage] ??= this.now();
  }

  /** A scan that changed nothing: its events lead to no push, so the open trace is dropped. */
  dropUnlessBuilt(): void {
    if (this.stages && this.stages.snapshotBuilt === undefined) this.take();
  }

  /** A stream write: first and last, only while a trace is open. */
  write(): void {
    const s = this.stages;
    if (!s) return;
    const t = this.now();
    s.firstWrite ??= t;
    s.lastWrite = t;
    this.writes++;
  }

  /** Closes the open trace: its stages and the number of stream writes. */
  take(): { stages: Partial<Record<PushStage, number>>; writes: number } | undefined {
    const stages = this.stages;
    if (!stages) return undefined;
    const writes = this.writes;
    this.stages = undefined;
    this.writes = 0;
    return { stages, writes };
  }
}

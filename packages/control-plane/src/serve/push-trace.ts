// `--trace-push`: wall-clock timestamps of one change's way through skeind — file event, scan,
// parse, snapshot, debounce, push, first and last stream write, and after the writes the last
// flush to a socket and the first and last ACK — logged as one line per push, so a benchmark can
// line them up with its own clock (epoch milliseconds with sub-ms precision).

export type PushStage =
  | 'fileEvent'
  | 'scanStart'
  | 'parsed'
  | 'snapshotBuilt'
  | 'debounceFired'
  | 'pushReturned'
  | 'firstWrite'
  | 'lastWrite'
  | 'lastFlush'
  | 'firstAck'
  | 'lastAck';

/** One push's trace: its stages, its stream writes, and how many of them were flushed and ACKed. */
export interface PushTraceRecord {
  stages: Partial<Record<PushStage, number>>;
  writes: number;
  flushes: number;
  acks: number;
}

/**
 * A trace is opened by the first stage of a change and closed when its writes are done; a closed
 * trace keeps counting its writes' flushes and ACKs until all arrived (or a timeout), then is
 * reported. A later trace's flushes and ACKs go to it once it is closed in turn.
 */
export class PushTrace {
  private current: PushTraceRecord | undefined;
  private following: { record: PushTraceRecord; report: () => void; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly now: () => number = () => performance.timeOrigin + performance.now()) {}

  /** Records the first time `stage` happened, opening a trace if none is open. */
  open(stage: PushStage): void {
    const s = (this.current ??= { stages: {}, writes: 0, flushes: 0, acks: 0 }).stages;
    s[stage] ??= this.now();
  }

  /** Records the first time `stage` happened in the open trace (nothing when none is). */
  mark(stage: PushStage): void {
    const s = this.current?.stages;
    if (s) s[stage] ??= this.now();
  }

  /** A scan that changed nothing: its events lead to no push, so the open trace is dropped. */
  dropUnlessBuilt(): void {
    if (this.current && this.current.stages.snapshotBuilt === undefined) this.take();
  }

  /** A stream write: first and last, only while a trace is open. */
  write(): void {
    const r = this.current;
    if (!r) return;
    const t = this.now();
    r.stages.firstWrite ??= t;
    r.stages.lastWrite = t;
    r.writes++;
  }

  /** A traced write reached its socket (grpc-js called the write's callback). */
  flushed(): void {
    const r = this.following?.record ?? this.current;
    if (!r || r.writes === 0) return;
    r.flushes++;
    r.stages.lastFlush = this.now();
    this.check();
  }

  /** A client ACKed a response. */
  acked(): void {
    const r = this.following?.record ?? this.current;
    if (!r || r.writes === 0) return;
    const t = this.now();
    r.acks++;
    r.stages.firstAck ??= t;
    r.stages.lastAck = t;
    this.check();
  }

  /** Closes the open trace: its stages and counts so far. */
  take(): PushTraceRecord | undefined {
    const r = this.current;
    this.current = undefined;
    return r;
  }

  /**
   * Closes the open trace and reports it once every write of it was flushed and ACKed, or after
   * `timeoutMs` (a client that never ACKs); a trace still followed is reported first.
   */
  finish(report: (r: PushTraceRecord) => void, timeoutMs = 2000): void {
    const r = this.take();
    this.following?.report();
    if (!r) return;
    const done = (): void => {
      if (this.following?.record !== r) return;
      clearTimeout(this.following.timer);
      this.following = undefined;
      report(r);
    };
    this.following = { record: r, report: done, timer: setTimeout(done, timeoutMs).unref() };
    this.check();
  }

  private check(): void {
    const f = this.following;
    if (f && f.record.flushes >= f.record.writes && f.record.acks >= f.record.writes) f.report();
  }
}

// The benchmark's view of skeind's `--trace-push` lines: per change, the wall-clock time of each
// stage of skeind's pipeline (file event, scan, parse, snapshot, debounce, push, stream writes),
// turned into milliseconds after the change was made, with the clients' first and last receipt.

/** Stage → epoch milliseconds, as skeind logs them (`"msg":"push trace","stages":{...}`). */
export type Stages = Record<string, number>;
/** Stage → milliseconds after the change. */
export type StageOffsets = Record<string, number>;

export class TraceLog {
  private readonly records: Stages[] = [];
  private readonly waiters: (() => void)[] = [];

  /** Feeds one line of skeind's stderr. */
  line(l: string): void {
    if (!l.includes('"push trace"')) return;
    try {
      const stages = (JSON.parse(l) as { stages?: Stages }).stages;
      if (!stages) return;
      this.records.push(stages);
      for (const w of this.waiters.splice(0)) w();
    } catch {
      // not a JSON line
    }
  }

  /** The first record whose earliest stage is at or after `start` (waits up to `timeoutMs`). */
  async after(start: number, timeoutMs = 3000): Promise<Stages | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.records.find((r) => Math.min(...Object.values(r)) >= start);
      if (hit || Date.now() > deadline) return hit;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export function stageOffsets(
  stages: Stages | undefined,
  start: number,
  received: readonly number[],
): StageOffsets | undefined {
  if (!stages) return undefined;
  const out: StageOffsets = {};
  for (const [k, t] of Object.entries(stages).sort(([, a], [, b]) => a - b)) out[k] = t - start;
  out['firstReceipt'] = Math.min(...received) - start;
  out['lastReceipt'] = Math.max(...received) - start;
  return out;
}
